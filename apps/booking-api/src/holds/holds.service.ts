import { randomUUID } from 'node:crypto';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { LockService, WithLock } from '@app/redis';
import { VenueCacheService } from '../availability/venue-cache.service.js';
import { slotLockResource } from '../bookings/slot-lock.js';
import { httpErrorsOf } from '../bookings/slot-write-http-errors.js';
import { API_CONFIG } from '../config/api-config.constants.js';
import type { ApiConfig } from '../config/api-config.interface.js';
import type { CreateHoldDto } from './dto/create-hold.dto.js';
import { HoldStateStore } from './hold-state.store.js';
import type { Hold } from './hold.interface.js';
import { HoldsRepository, type NewHold } from './holds.repository.js';

/**
 * Places and cancels seat holds. Like bookings, each write runs under the slot's lock (`@WithLock`) and is fenced
 * by its token, then evicts the venue's cached availability; a live hold is also kept in Redis with the hold's ttl
 * ({@link HoldStateStore}). Expired holds are released by booking-worker's scheduled job, not here.
 */
@Injectable()
export class HoldsService {
  private readonly ttlMs: number;

  constructor(
    private readonly repository: HoldsRepository,
    private readonly state: HoldStateStore,
    private readonly locks: LockService,
    private readonly venueCache: VenueCacheService,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    this.ttlMs = config.holdTtlMs;
  }

  /**
   * Holds seats for `HOLD_TTL_MS`.
   *
   * @throws NotFoundException (no such slot), ConflictException (not enough free seats: code SOLD_OUT, or the lock
   *   was lost), HttpException 423 (slot locked past the wait), ServiceUnavailableException (Redis unreachable)
   */
  async place(request: CreateHoldDto): Promise<Hold> {
    const hold = await httpErrorsOf(
      request.slotId,
      this.placeUnderSlotLock(request.slotId, { id: randomUUID(), ...request }),
    );
    await this.state.remember(hold);
    return hold;
  }

  /**
   * The hold: from Redis while it lives (no database read), else from the database.
   *
   * @throws NotFoundException
   */
  async get(id: string): Promise<Hold> {
    const hold = (await this.state.recall(id)) ?? (await this.repository.findById(id));
    if (!hold) throw new NotFoundException(`Hold ${id} does not exist.`);
    return hold;
  }

  /**
   * Cancels a hold and frees its seats; cancelling a cancelled hold returns it unchanged.
   *
   * @throws NotFoundException, GoneException (already released), ConflictException (confirmed: cancel the booking
   *   instead), HttpException 423, ServiceUnavailableException
   */
  async cancel(id: string): Promise<Hold> {
    const current = await this.repository.findById(id);
    if (!current) throw new NotFoundException(`Hold ${id} does not exist.`);
    const { hold } = await httpErrorsOf(current.slotId, this.cancelUnderSlotLock(current.slotId, current));
    await this.state.forget(id);
    return hold;
  }

  /** @param slotId the lock's key (`slot:<id>`) */
  @WithLock({ key: (slotId: string) => slotLockResource(slotId) })
  async placeUnderSlotLock(slotId: string, hold: NewHold): Promise<Hold> {
    const placed = await this.repository.place({ ...hold, slotId }, this.ttlMs, this.fencingToken(slotId));
    await this.venueCache.evictVenue(placed.venueId);
    return placed;
  }

  /** @param slotId the lock's key (`slot:<id>`) */
  @WithLock({ key: (slotId: string) => slotLockResource(slotId) })
  async cancelUnderSlotLock(slotId: string, hold: Hold): Promise<{ hold: Hold; cancelled: boolean }> {
    const result = await this.repository.cancel(hold, this.fencingToken(slotId));
    if (result.cancelled) await this.venueCache.evictVenue(result.hold.venueId);
    return result;
  }

  private fencingToken(slotId: string): number {
    const lock = this.locks.current(slotLockResource(slotId));
    if (!lock) throw new Error(`No lock is held on slot ${slotId}: the write must run under @WithLock.`);
    return lock.fencingToken;
  }
}
