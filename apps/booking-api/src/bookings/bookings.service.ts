import { createHash, randomUUID } from 'node:crypto';
import {
  HttpStatus,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { LockService, WithLock } from '@app/redis';
import { SemaphoreNotAcquiredError } from '@app/redis/semaphore';
import { VenueCacheService } from '../availability/venue-cache.service.js';
import { HoldNotActiveError } from '../holds/errors/hold-not-active.error.js';
import { HoldStateStore } from '../holds/hold-state.store.js';
import { HoldsService } from '../holds/holds.service.js';
import { maybeCrashAt } from '../outbox/outbox-crash-point.js';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { PaymentService } from '../payments/payment.service.js';
import type { Booking, BookingOutcome } from './booking.interface.js';
import {
  BookingsRepository,
  type BookingWrite,
  type HoldConfirmation,
  type NewBooking,
} from './bookings.repository.js';
import type { CreateBookingDto, DirectBookingRequest } from './dto/create-booking.dto.js';
import { SlotSoldOutError } from './errors/slot-sold-out.error.js';
import { slotLockResource } from './slot-lock.js';
import { holdNotActive, httpErrorsOf, soldOut } from './slot-write-http-errors.js';

/** Seconds a client told "payments are busy" should wait before retrying. */
const PAYMENT_BUSY_RETRY_AFTER_S = 2;

/**
 * Creates and cancels bookings. Each write runs under the slot's distributed lock (`@WithLock`: one writer per slot
 * across every replica, waiting up to `BOOKING_LOCK_WAIT_MS`) and stores the lock's fencing token, so a holder whose
 * lock expired cannot overwrite a newer holder's work. Still under the lock it evicts the venue's cached
 * availability. The booking event is written to the outbox in the booking's transaction; after the commit the
 * request publishes it through the {@link OutboxRelay} (whose periodic pass publishes it instead if this process
 * dies first).
 */
@Injectable()
export class BookingsService {
  constructor(
    private readonly repository: BookingsRepository,
    private readonly locks: LockService,
    private readonly venueCache: VenueCacheService,
    private readonly relay: OutboxRelay,
    private readonly holds: HoldsService,
    private readonly holdState: HoldStateStore,
    private readonly payments: PaymentService,
  ) {}

  /**
   * Books `seats` on a slot. A request whose idempotency key was seen before returns that booking (`replayed`)
   * without taking a seat; the same key with a different body is rejected.
   *
   * @throws NotFoundException (no such slot), ConflictException (sold out, or the lock was lost mid-write),
   *   HttpException 423 (slot locked past the wait), UnprocessableEntityException (key reused for another request),
   *   ServiceUnavailableException (Redis unreachable)
   */
  async create(request: CreateBookingDto, idempotencyKey: string): Promise<BookingOutcome> {
    if (request.holdId !== undefined) return this.confirmHold(request.holdId, idempotencyKey);
    return this.createDirect(request as DirectBookingRequest, idempotencyKey);
  }

  /**
   * Confirms a live hold: the simulated payment (at most `PAYMENT_PERMITS` at once across replicas), then, under
   * the slot lock, the hold becomes a booking (its seats move from held to booked) unless it expired meanwhile.
   * Same idempotency rules as a direct booking.
   *
   * @throws NotFoundException (no such hold), GoneException (expired, released or cancelled), ConflictException
   *   (confirmed by another request, or the lock was lost), HttpException 423, ServiceUnavailableException (no
   *   payment permit in time, Redis unreachable)
   */
  private async confirmHold(holdId: string, idempotencyKey: string): Promise<BookingOutcome> {
    const requestFingerprint = createHash('sha256')
      .update(JSON.stringify(['hold', holdId]))
      .digest('hex');
    const prior = await this.repository.findByIdempotencyKey(idempotencyKey);
    if (prior) return { booking: this.sameRequest(prior, requestFingerprint), replayed: true };

    // Before paying: a hold that already ended or expired is refused without a payment call.
    const hold = await this.holds.get(holdId);
    if (hold.status !== 'held') throw holdNotActive(new HoldNotActiveError(holdId, hold.status));
    if (hold.expiresAt.getTime() <= Date.now()) throw holdNotActive(new HoldNotActiveError(holdId, 'expired'));
    try {
      await this.payments.authorize(holdId);
    } catch (error) {
      if (!(error instanceof SemaphoreNotAcquiredError)) throw error;
      throw new ServiceUnavailableException({
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: 'Service Unavailable',
        code: 'PAYMENTS_BUSY',
        message: `The payment step is busy (${error.reason}); retry after ${PAYMENT_BUSY_RETRY_AFTER_S} s.`,
      });
    }
    const confirmation: HoldConfirmation = { id: randomUUID(), holdId, idempotencyKey, requestFingerprint };
    let outcome: BookingWrite;
    try {
      outcome = await httpErrorsOf(hold.slotId, this.confirmHoldUnderSlotLock(hold.slotId, confirmation));
    } catch (error) {
      // Two requests with the same key at once: the unique index decides, the loser answers as a replay.
      const winner = isUniqueViolation(error) ? await this.repository.findByIdempotencyKey(idempotencyKey) : null;
      if (!winner) throw error;
      outcome = { ...winner, replayed: true };
    }
    if (outcome.replayed) return { booking: this.sameRequest(outcome, requestFingerprint), replayed: true };
    await this.afterCommit(outcome.eventId);
    await this.holdState.forget(holdId);
    return { booking: outcome.booking, replayed: false };
  }

  /** Books free seats at once, without a hold (the flow before holds existed). */
  private async createDirect(request: DirectBookingRequest, idempotencyKey: string): Promise<BookingOutcome> {
    const requestFingerprint = fingerprint(request);
    const prior = await this.repository.findByIdempotencyKey(idempotencyKey);
    if (prior) return { booking: this.sameRequest(prior, requestFingerprint), replayed: true };

    // Unlocked read, a hint only: a slot already full answers 409 without queueing for its lock.
    const seats = await this.repository.findSlotSeats(request.slotId);
    if (!seats) throw new NotFoundException(`Slot ${request.slotId} does not exist.`);
    if (seats.availableSeats < request.seats) {
      throw soldOut(new SlotSoldOutError(request.slotId, seats.availableSeats, request.seats));
    }

    let outcome: BookingWrite;
    try {
      outcome = await httpErrorsOf(
        request.slotId,
        this.createUnderSlotLock(request.slotId, { id: randomUUID(), ...request, idempotencyKey, requestFingerprint }),
      );
    } catch (error) {
      // The same key sent at once for two different slots: the two locks do not exclude each other, the unique
      // index does, and the loser answers like any reuse of the key.
      const winner = isUniqueViolation(error) ? await this.repository.findByIdempotencyKey(idempotencyKey) : null;
      if (!winner) throw error;
      outcome = { ...winner, replayed: true };
    }
    if (outcome.replayed) {
      return { booking: this.sameRequest(outcome, requestFingerprint), replayed: true };
    }
    await this.afterCommit(outcome.eventId);
    return { booking: outcome.booking, replayed: false };
  }

  /** @throws NotFoundException */
  async get(id: string): Promise<Booking> {
    const booking = await this.repository.findById(id);
    if (!booking) throw new NotFoundException(`Booking ${id} does not exist.`);
    return booking;
  }

  /**
   * Cancels a booking and gives its seats back. Cancelling a cancelled booking returns it unchanged (no event).
   *
   * @throws NotFoundException, HttpException 423, ConflictException, ServiceUnavailableException
   */
  async cancel(id: string): Promise<Booking> {
    const current = await this.get(id);
    if (current.status === 'cancelled') return current;
    const { booking, eventId } = await httpErrorsOf(current.slotId, this.cancelUnderSlotLock(current.slotId, current));
    await this.afterCommit(eventId);
    return booking;
  }

  /**
   * Writes a booking holding the slot's lock, fenced by the lock's token; evicts the venue's availability before
   * the lock is released, so evictions of one slot happen in commit order.
   *
   * @param slotId the lock's key (`slot:<id>`)
   */
  @WithLock({ key: (slotId: string) => slotLockResource(slotId) })
  async createUnderSlotLock(slotId: string, booking: NewBooking): Promise<BookingWrite> {
    const result = await this.repository.create({ ...booking, slotId }, this.fencingToken(slotId));
    if (!result.replayed) await this.venueCache.evictVenue(result.booking.venueId);
    return result;
  }

  /**
   * Turns a hold into a booking holding the slot's lock, fenced by its token, and evicts the venue's availability.
   *
   * @param slotId the lock's key (`slot:<id>`)
   */
  @WithLock({ key: (slotId: string) => slotLockResource(slotId) })
  async confirmHoldUnderSlotLock(slotId: string, confirmation: HoldConfirmation): Promise<BookingWrite> {
    const result = await this.repository.confirmHold(slotId, confirmation, this.fencingToken(slotId));
    if (!result.replayed) await this.venueCache.evictVenue(result.booking.venueId);
    return result;
  }

  /**
   * Cancels a booking holding its slot's lock, fenced by the lock's token, and evicts the venue's availability.
   *
   * @param slotId the lock's key (`slot:<id>`)
   */
  @WithLock({ key: (slotId: string) => slotLockResource(slotId) })
  async cancelUnderSlotLock(
    slotId: string,
    booking: Booking,
  ): Promise<{ booking: Booking; cancelled: boolean; eventId?: string }> {
    const result = await this.repository.cancel(booking, this.fencingToken(slotId));
    if (result.cancelled) await this.venueCache.evictVenue(result.booking.venueId);
    return result;
  }

  /** The fencing token of the slot lock this call chain holds (`@WithLock` put it in the lock context). */
  private fencingToken(slotId: string): number {
    const lock = this.locks.current(slotLockResource(slotId));
    if (!lock) throw new Error(`No lock is held on slot ${slotId}: the write must run under @WithLock.`);
    return lock.fencingToken;
  }

  private sameRequest(prior: { booking: Booking; requestFingerprint: string }, requestFingerprint: string): Booking {
    if (prior.requestFingerprint !== requestFingerprint) {
      throw new UnprocessableEntityException({
        statusCode: HttpStatus.UNPROCESSABLE_ENTITY,
        error: 'Unprocessable Entity',
        code: 'IDEMPOTENCY_KEY_REUSED',
        message: 'This Idempotency-Key was already used for a different booking request.',
      });
    }
    return prior.booking;
  }

  /**
   * Publishes the event a committed write put in the outbox. A failure is logged by the relay and never undoes the
   * booking: the entry stays in the outbox for the relay's next pass.
   */
  private async afterCommit(eventId: string | undefined): Promise<void> {
    if (eventId === undefined) return;
    maybeCrashAt('after-commit');
    await this.relay.publishNow([eventId]);
  }
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/** Identifies a booking request, so a reused idempotency key can be told from a retry of the same request. */
function fingerprint(request: DirectBookingRequest): string {
  const canonical = JSON.stringify([request.slotId.toLowerCase(), request.customerEmail.toLowerCase(), request.seats]);
  return createHash('sha256').update(canonical).digest('hex');
}
