import { Injectable, NotFoundException } from '@nestjs/common';
import { Cacheable } from '@app/redis';
import { availabilityCacheKey, venueCacheTag } from './availability-cache.keys.js';
import { AvailabilityRepository } from './availability.repository.js';
import type { VenueAvailabilityDto } from './dto/venue-availability.dto.js';

/** Name of the availability cache in the library's counters (`CacheService.stats()`). */
export const AVAILABILITY_CACHE = 'availability';

/** How long a venue's availability is served from the cache at most; bookings evict it much sooner. */
export const AVAILABILITY_TTL_MS = 60_000;

/**
 * A venue's availability for one day, served through `@Cacheable` under a key per venue and day, tagged with the
 * venue: `BookingsService` evicts the tag after every booking or cancellation of one of its slots.
 */
@Injectable()
export class AvailabilityService {
  constructor(private readonly repository: AvailabilityRepository) {}

  /** @throws NotFoundException when the venue does not exist (not cached: a venue created later shows up at once) */
  @Cacheable({
    name: AVAILABILITY_CACHE,
    key: (venueId: string, date: string) => availabilityCacheKey(venueId, date),
    tags: (venueId: string) => [venueCacheTag(venueId)],
    ttl: AVAILABILITY_TTL_MS,
  })
  async forVenue(venueId: string, date: string): Promise<VenueAvailabilityDto> {
    const availability = await this.repository.forVenueOn(venueId, date);
    if (!availability) throw new NotFoundException(`Venue ${venueId} does not exist.`);
    return availability;
  }
}
