import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { BookingEventsPublisher } from '../bookings/booking-events.publisher.js';
import { maybeCrashAt } from './outbox-crash-point.js';
import { type OutboxEntry, OutboxRepository } from './outbox.repository.js';

/**
 * How long a claim keeps other relays off an entry. Past it, a relay that died or stalled mid-publish loses the
 * entry to the next pass (which may publish it a second time: the worker records each booking event once).
 */
const LEASE_MS = 10_000;
/** How often each replica looks for entries no request published. */
const POLL_INTERVAL_MS = 1_000;
/**
 * Entries younger than this belong to the request that committed them, which publishes them itself right after
 * the commit; the periodic pass leaves them alone so it does not race that request for them.
 */
const STALE_AFTER_MS = 3_000;
/** Entries claimed per statement by the periodic pass. */
const BATCH_SIZE = 100;

/**
 * Publishes the outbox's booking events to Redis Streams, at least once each, after their transaction committed.
 *
 * Two paths, both claim → publish → mark:
 * - **right after a commit**, the request that wrote an entry publishes it ({@link publishNow}), so an event reaches
 *   booking-worker as fast as before the outbox, inside the request's trace;
 * - **every second**, each replica claims entries older than 3 s still unpublished, in id order: those of a process
 *   that died between commit and publish, or whose publish Redis refused.
 *
 * Two replicas at once: claims are leases taken with `FOR UPDATE SKIP LOCKED` (see {@link OutboxRepository}), so
 * an entry is published by one relay at a time. A lease, not a transaction held across the publish: a relay never
 * keeps the database busy while it waits on Redis, and a dead relay's entries come back when its lease runs out.
 * Within one pass entries go out in id order; across replicas and paths two events may overtake each other, which
 * the worker's records allow (each event is recorded once by booking id, the counters are sums).
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxRelay.name);
  /** This process's name on its leases. */
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly publisher: BookingEventsPublisher,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  /** Stops the periodic pass and waits for one under way, before the database and Redis close. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
  }

  /**
   * Publishes entries the caller just committed, unless another relay claimed them first. Never throws: an entry
   * not published here stays in the outbox for the periodic pass.
   */
  async publishNow(ids: readonly string[]): Promise<void> {
    try {
      await this.publishAll(await this.outbox.claimIds(ids, this.owner, LEASE_MS));
    } catch (error) {
      this.logger.error(`Booking events left in the outbox for the next pass: ${messageOf(error)}`);
    }
  }

  /** Claims and publishes stale entries until none is left (or one fails); never throws. */
  async publishStale(): Promise<void> {
    try {
      for (;;) {
        const entries = await this.outbox.claimStale(this.owner, LEASE_MS, BATCH_SIZE, STALE_AFTER_MS);
        const published = await this.publishAll(entries);
        if (published < BATCH_SIZE || this.stopped) return;
      }
    } catch (error) {
      this.logger.warn(`Outbox pass failed, retrying in ${POLL_INTERVAL_MS} ms: ${messageOf(error)}`);
    }
  }

  /**
   * Publishes claimed entries in order, marking each once Redis confirmed it. Stops at the first failure and gives
   * back the lease on the rest, so the order holds and the next pass retries them at once.
   *
   * @returns how many were published
   */
  private async publishAll(entries: OutboxEntry[]): Promise<number> {
    for (const [index, entry] of entries.entries()) {
      try {
        await this.publisher.publish(entry.name, entry.payload);
      } catch (error) {
        await this.outbox.release(
          entries.slice(index).map((rest) => rest.id),
          this.owner,
        );
        throw error;
      }
      maybeCrashAt('after-publish');
      await this.outbox.markPublished([entry.id]);
    }
    return entries.length;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pass = this.publishStale().finally(() => {
        this.pass = undefined;
        this.schedule();
      });
    }, POLL_INTERVAL_MS);
    // The pass must not keep a process alive that is otherwise done (a test's app closed without its hooks).
    this.timer.unref();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
