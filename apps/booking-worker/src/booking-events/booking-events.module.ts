import { Module } from '@nestjs/common';
import { RedisTransportServer } from '@app/redis/transport';
import { BookingEventsController } from './booking-events.controller.js';
import { bookingEventsServerProvider } from './booking-events.server.js';
import { BookingEventsService } from './booking-events.service.js';
import { BookingReportsController } from './booking-reports.controller.js';

/** Booking event handling (over the Redis transport, whose server it provides) and its HTTP read side. */
@Module({
  controllers: [BookingEventsController, BookingReportsController],
  providers: [BookingEventsService, bookingEventsServerProvider],
  exports: [BookingEventsService, RedisTransportServer],
})
export class BookingEventsModule {}
