import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, UseGuards } from '@nestjs/common';
import {
  BookingEventsService,
  type BookingNotification,
  type VenueCounters,
  type WorkerStats,
} from './booking-events.service.js';
import { NotificationsTokenGuard } from './notifications-token.guard.js';

/**
 * Read-only HTTP view of what the worker recorded (for operators, the demo runner and tests). Counters and totals
 * are open; a notification holds a customer's e-mail address, so it takes the `NOTIFICATIONS_TOKEN` bearer token.
 */
@Controller()
export class BookingReportsController {
  constructor(private readonly events: BookingEventsService) {}

  @Get('notifications/:bookingId')
  @UseGuards(NotificationsTokenGuard)
  async notification(@Param('bookingId', new ParseUUIDPipe()) bookingId: string): Promise<BookingNotification> {
    const notification = await this.events.notificationFor(bookingId.toLowerCase());
    if (!notification) throw new NotFoundException(`No notification recorded for booking ${bookingId}.`);
    return notification;
  }

  @Get('venues/:venueId/counters')
  counters(@Param('venueId', new ParseUUIDPipe()) venueId: string): Promise<VenueCounters> {
    // Events are recorded under canonical (lower-case) ids.
    return this.events.countersFor(venueId.toLowerCase());
  }

  @Get('stats')
  stats(): Promise<WorkerStats> {
    return this.events.stats();
  }
}
