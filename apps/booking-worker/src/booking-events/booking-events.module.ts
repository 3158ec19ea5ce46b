import { Module } from '@nestjs/common';
import { BookingEventsController } from './booking-events.controller.js';
import { BookingEventsService } from './booking-events.service.js';
import { BookingReportsController } from './booking-reports.controller.js';

/** Booking event handling (over the Redis transport) and its HTTP read side. */
@Module({
  controllers: [BookingEventsController, BookingReportsController],
  providers: [BookingEventsService],
  exports: [BookingEventsService],
})
export class BookingEventsModule {}
