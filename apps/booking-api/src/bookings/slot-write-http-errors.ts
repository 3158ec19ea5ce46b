import {
  ConflictException,
  GoneException,
  HttpException,
  HttpStatus,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { LockLostError, LockNotAcquiredError } from '@app/redis';
import { HoldNotActiveError } from '../holds/errors/hold-not-active.error.js';
import { HoldNotFoundError } from '../holds/errors/hold-not-found.error.js';
import { SlotNotFoundError } from './errors/slot-not-found.error.js';
import { SlotSoldOutError } from './errors/slot-sold-out.error.js';
import { StaleFencingTokenError } from './errors/stale-fencing-token.error.js';

/** Seconds a client told "slot locked" should wait before retrying. */
const LOCKED_RETRY_AFTER_S = 1;

/** Maps the lock's and the store's failures of a slot write to HTTP errors. */
export async function httpErrorsOf<T>(slotId: string, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof SlotSoldOutError) throw soldOut(error);
    if (error instanceof SlotNotFoundError || error instanceof HoldNotFoundError) {
      throw new NotFoundException(error.message);
    }
    if (error instanceof HoldNotActiveError) throw holdNotActive(error);
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

export function soldOut(error: SlotSoldOutError): ConflictException {
  return new ConflictException({
    statusCode: HttpStatus.CONFLICT,
    error: 'Conflict',
    code: error.code,
    message: error.message,
    availableSeats: error.availableSeats,
  });
}

/**
 * A hold that ended: 410 Gone when its seats went back (expired, released, cancelled), 409 when it became a booking.
 */
export function holdNotActive(error: HoldNotActiveError): HttpException {
  const body = { code: `HOLD_${error.end.toUpperCase()}`, message: error.message, holdId: error.holdId };
  return error.end === 'confirmed'
    ? new ConflictException({ statusCode: HttpStatus.CONFLICT, error: 'Conflict', ...body })
    : new GoneException({ statusCode: HttpStatus.GONE, error: 'Gone', ...body });
}
