import { Controller, Get, NotFoundException, Param, ParseUUIDPipe } from '@nestjs/common';
import {
  BookingEventsService,
  type BookingNotification,
  type VenueCounters,
  type WorkerStats,
} from './booking-events.service.js';

/** Read-only HTTP view of what the worker recorded (for operators, the demo runner and tests). */
@Controller()
export class BookingReportsController {
  constructor(private readonly events: BookingEventsService) {}

  @Get('notifications/:bookingId')
  async notification(@Param('bookingId', new ParseUUIDPipe()) bookingId: string): Promise<BookingNotification> {
    const notification = await this.events.notificationFor(bookingId);
    if (!notification) throw new NotFoundException(`No notification recorded for booking ${bookingId}.`);
    return notification;
  }

  @Get('venues/:venueId/counters')
  counters(@Param('venueId', new ParseUUIDPipe()) venueId: string): Promise<VenueCounters> {
    return this.events.countersFor(venueId);
  }

  @Get('stats')
  stats(): Promise<WorkerStats> {
    return this.events.stats();
  }
}
