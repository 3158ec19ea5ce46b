import { Module } from '@nestjs/common';
import { RedisTransportServer } from '@app/redis/transport';
import { WorkerConfigModule } from '../config/worker-config.module.js';
import { BookingEventsController } from './booking-events.controller.js';
import { bookingEventsServerProvider } from './booking-events.server.js';
import { BookingEventsService } from './booking-events.service.js';
import { BookingReportsController } from './booking-reports.controller.js';
import { NotificationsTokenGuard } from './notifications-token.guard.js';

/**
 * Booking event handling (over the Redis transport, whose server it provides) and its HTTP read side, whose
 * notifications route takes the `NOTIFICATIONS_TOKEN` from the worker's configuration.
 */
@Module({
  imports: [WorkerConfigModule],
  controllers: [BookingEventsController, BookingReportsController],
  providers: [BookingEventsService, bookingEventsServerProvider, NotificationsTokenGuard],
  exports: [BookingEventsService, RedisTransportServer],
})
export class BookingEventsModule {}
