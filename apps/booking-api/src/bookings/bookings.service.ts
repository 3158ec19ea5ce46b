import { createHash, randomUUID } from 'node:crypto';
import {
  ConflictException,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { LockLostError, LockNotAcquiredError, LockService, WithLock } from '@app/redis';
import { BOOKING_CANCELLED, BOOKING_CREATED } from '../../../booking-contracts/src/index.js';
import { VenueCacheService } from '../availability/venue-cache.service.js';
import { BookingEventsPublisher } from './booking-events.publisher.js';
import type { Booking, BookingOutcome } from './booking.interface.js';
import { BookingsRepository, type NewBooking } from './bookings.repository.js';
import type { CreateBookingDto } from './dto/create-booking.dto.js';
import { SlotNotFoundError } from './errors/slot-not-found.error.js';
import { SlotSoldOutError } from './errors/slot-sold-out.error.js';
import { StaleFencingTokenError } from './errors/stale-fencing-token.error.js';
import { slotLockResource } from './slot-lock.js';

/** Seconds a client told "slot locked" should wait before retrying. */
const LOCKED_RETRY_AFTER_S = 1;

/**
 * Creates and cancels bookings. Each write runs under the slot's distributed lock (`@WithLock`: one writer per slot
 * across every replica, waiting up to `BOOKING_LOCK_WAIT_MS`) and stores the lock's fencing token, so a holder whose
 * lock expired cannot overwrite a newer holder's work. Still under the lock it evicts the venue's cached
 * availability; after it, it emits the booking event.
 */
@Injectable()
export class BookingsService {
  private readonly logger = new Logger(BookingsService.name);

  constructor(
    private readonly repository: BookingsRepository,
    private readonly locks: LockService,
    private readonly venueCache: VenueCacheService,
    private readonly events: BookingEventsPublisher,
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
    const requestFingerprint = fingerprint(request);
    const prior = await this.repository.findByIdempotencyKey(idempotencyKey);
    if (prior) return { booking: this.sameRequest(prior, requestFingerprint), replayed: true };

    // Unlocked read, a hint only: a slot already full answers 409 without queueing for its lock.
    const seats = await this.repository.findSlotSeats(request.slotId);
    if (!seats) throw new NotFoundException(`Slot ${request.slotId} does not exist.`);
    if (seats.availableSeats < request.seats) {
      throw soldOut(new SlotSoldOutError(request.slotId, seats.availableSeats, request.seats));
    }

    let outcome: BookingOutcome & { requestFingerprint: string };
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
    const { booking } = outcome;
    await this.emit(() =>
      this.events.publish(BOOKING_CREATED, {
        bookingId: booking.id,
        venueId: booking.venueId,
        slotId: booking.slotId,
        customerEmail: booking.customerEmail,
        seats: booking.seats,
        fencingToken: booking.fencingToken,
        createdAt: booking.createdAt.toISOString(),
      }),
    );
    return { booking, replayed: false };
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
    const { booking, cancelled } = await httpErrorsOf(
      current.slotId,
      this.cancelUnderSlotLock(current.slotId, current),
    );
    if (cancelled) {
      await this.emit(() =>
        this.events.publish(BOOKING_CANCELLED, {
          bookingId: booking.id,
          venueId: booking.venueId,
          slotId: booking.slotId,
          seats: booking.seats,
          cancelledAt: (booking.cancelledAt ?? new Date()).toISOString(),
        }),
      );
    }
    return booking;
  }

  /**
   * Writes a booking holding the slot's lock, fenced by the lock's token; evicts the venue's availability before
   * the lock is released, so evictions of one slot happen in commit order.
   *
   * @param slotId the lock's key (`slot:<id>`)
   */
  @WithLock({ key: (slotId: string) => slotLockResource(slotId) })
  async createUnderSlotLock(
    slotId: string,
    booking: NewBooking,
  ): Promise<BookingOutcome & { requestFingerprint: string }> {
    const result = await this.repository.create({ ...booking, slotId }, this.fencingToken(slotId));
    if (!result.replayed) await this.venueCache.evictVenue(result.booking.venueId);
    return result;
  }

  /**
   * Cancels a booking holding its slot's lock, fenced by the lock's token, and evicts the venue's availability.
   *
   * @param slotId the lock's key (`slot:<id>`)
   */
  @WithLock({ key: (slotId: string) => slotLockResource(slotId) })
  async cancelUnderSlotLock(slotId: string, booking: Booking): Promise<{ booking: Booking; cancelled: boolean }> {
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

  /** Events follow the commit: a failure to publish is logged, never undoes the booking. */
  private async emit(publish: () => Promise<void>): Promise<void> {
    try {
      await publish();
    } catch (error) {
      this.logger.error(`Booking event not published: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** Maps the lock's and the store's failures of a slot write to HTTP errors. */
async function httpErrorsOf<T>(slotId: string, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof SlotSoldOutError) throw soldOut(error);
    if (error instanceof SlotNotFoundError) throw new NotFoundException(error.message);
    if (error instanceof StaleFencingTokenError || error instanceof LockLostError) {
      const code = error instanceof LockLostError ? 'SLOT_LOCK_LOST' : error.code;
      const message =
        error instanceof LockLostError
          ? `The lock on slot ${slotId} was lost before the write settled.`
          : error.message;
      throw new ConflictException({
        statusCode: HttpStatus.CONFLICT,
        error: 'Conflict',
        code,
        message: `${message} Retry with the same Idempotency-Key.`,
      });
    }
    if (error instanceof LockNotAcquiredError) {
      if (error.reason === 'contention') {
        throw new HttpException(
          {
            statusCode: HttpStatus.LOCKED,
            error: 'Locked',
            code: 'SLOT_LOCKED',
            message: `Slot ${slotId} stayed locked for ${error.waitedMs} ms; retry after ${LOCKED_RETRY_AFTER_S} s.`,
          },
          HttpStatus.LOCKED,
        );
      }
      throw new ServiceUnavailableException(`Bookings are unavailable: the lock service is ${error.reason}.`);
    }
    throw error;
  }
}

function soldOut(error: SlotSoldOutError): ConflictException {
  return new ConflictException({
    statusCode: HttpStatus.CONFLICT,
    error: 'Conflict',
    code: error.code,
    message: error.message,
    availableSeats: error.availableSeats,
  });
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/** Identifies a booking request, so a reused idempotency key can be told from a retry of the same request. */
function fingerprint(request: CreateBookingDto): string {
  const canonical = JSON.stringify([request.slotId.toLowerCase(), request.customerEmail.toLowerCase(), request.seats]);
  return createHash('sha256').update(canonical).digest('hex');
}
