import { Injectable, Logger } from '@nestjs/common';
import { SpanKind, trace } from '@opentelemetry/api';
import { InjectRedis, type RedisClient, RedisKeyspace } from '@app/redis';
import type { BookingCancelledEvent, BookingCreatedEvent } from '../../../booking-contracts/src/index.js';
import { RECORD_ONCE_SCRIPT } from './booking-events.scripts.js';

/** The confirmation notification recorded for a booking (what a mailer would send). */
export interface BookingNotification {
  bookingId: string;
  venueId: string;
  customerEmail: string;
  seats: number;
  kind: 'confirmation';
  recordedAt: string;
}

/** What the worker counted for one venue. */
export interface VenueCounters {
  venueId: string;
  bookings: number;
  cancellations: number;
  seatsBooked: number;
}

/** Totals over every event delivery the worker saw. */
export interface WorkerStats {
  eventsHandled: number;
  duplicatesIgnored: number;
  notifications: number;
}

/**
 * Applies booking events to the worker's records in Redis, exactly once per booking event however often the
 * transport delivers it (streams are at-least-once): a confirmation notification per booking, per-venue counters
 * and totals. Keys share one hash tag, so the script's keys stay in one Cluster slot.
 */
@Injectable()
export class BookingEventsService {
  private readonly logger = new Logger(BookingEventsService.name);
  private readonly keys: {
    notifications: string;
    cancellations: string;
    totals: string;
    venue: (id: string) => string;
  };

  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    keyspace: RedisKeyspace,
  ) {
    const key = (...parts: string[]) => keyspace.key('{booking-worker}', ...parts);
    this.keys = {
      notifications: key('notifications'),
      cancellations: key('cancellations'),
      totals: key('totals'),
      venue: (venueId) => key('venue', venueId),
    };
  }

  /** @returns `true` when recorded now, `false` when this booking's confirmation had been recorded already */
  async recordCreated(event: BookingCreatedEvent): Promise<boolean> {
    const notification: BookingNotification = {
      bookingId: event.bookingId,
      venueId: event.venueId,
      customerEmail: event.customerEmail,
      seats: event.seats,
      kind: 'confirmation',
      recordedAt: new Date().toISOString(),
    };
    const applied = await this.recordOnce(this.keys.notifications, event, notification, 'bookings', event.seats);
    if (applied) this.logger.debug(`Confirmation recorded for booking ${event.bookingId}.`);
    return applied;
  }

  /** @returns `true` when recorded now, `false` when this cancellation had been recorded already */
  async recordCancelled(event: BookingCancelledEvent): Promise<boolean> {
    return this.recordOnce(this.keys.cancellations, event, event, 'cancellations', -event.seats);
  }

  async notificationFor(bookingId: string): Promise<BookingNotification | null> {
    const json = await this.redis.hget(this.keys.notifications, bookingId);
    return json === null ? null : (JSON.parse(json) as BookingNotification);
  }

  async countersFor(venueId: string): Promise<VenueCounters> {
    const raw = await this.redis.hgetall(this.keys.venue(venueId));
    return {
      venueId,
      bookings: Number(raw.bookings ?? 0),
      cancellations: Number(raw.cancellations ?? 0),
      seatsBooked: Number(raw.seatsBooked ?? 0),
    };
  }

  async stats(): Promise<WorkerStats> {
    const [raw, notifications] = await Promise.all([
      this.redis.hgetall(this.keys.totals),
      this.redis.hlen(this.keys.notifications),
    ]);
    return {
      eventsHandled: Number(raw.eventsHandled ?? 0),
      duplicatesIgnored: Number(raw.duplicatesIgnored ?? 0),
      notifications,
    };
  }

  private async recordOnce(
    markers: string,
    event: { bookingId: string; venueId: string },
    record: object,
    counter: 'bookings' | 'cancellations',
    seatsDelta: number,
  ): Promise<boolean> {
    // A span of its own (a no-op one unless the demo's tracing is on): the child of the handler's `process` span.
    const span = trace.getTracer('booking-demo').startSpan('EVAL record-once', {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'redis', 'db.operation.name': 'EVAL', 'booking_worker.record': counter },
    });
    try {
      const applied = await this.redis.eval(
        RECORD_ONCE_SCRIPT,
        3,
        markers,
        this.keys.venue(event.venueId),
        this.keys.totals,
        event.bookingId,
        JSON.stringify(record),
        counter,
        String(seatsDelta),
      );
      span.setAttribute('booking_worker.applied', applied === 1);
      return applied === 1;
    } finally {
      span.end();
    }
  }
}
