import { Injectable } from '@nestjs/common';
import { CacheService } from '@app/redis';
import { venueCacheTag } from './availability-cache.keys.js';

/**
 * Evicts what is cached about a venue after its bookings change; `BookingsService` calls it after every committed
 * booking or cancellation, while still holding the slot lock, so evictions of one slot happen in commit order.
 */
@Injectable()
export class VenueCacheService {
  constructor(private readonly cache: CacheService) {}

  /** @returns how many cache entries were evicted (on every replica: the library broadcasts to their L1) */
  evictVenue(venueId: string): Promise<number> {
    return this.cache.invalidateTags([venueCacheTag(venueId)]);
  }
}
