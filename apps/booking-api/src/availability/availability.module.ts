import { Module } from '@nestjs/common';
import { AvailabilityController } from './availability.controller.js';
import { AvailabilityRepository } from './availability.repository.js';
import { AvailabilityService } from './availability.service.js';
import { VenueCacheService } from './venue-cache.service.js';

/** Venue availability, read through the cache seam; exports the eviction the bookings feature calls. */
@Module({
  controllers: [AvailabilityController],
  providers: [AvailabilityRepository, AvailabilityService, VenueCacheService],
  exports: [VenueCacheService],
})
export class AvailabilityModule {}
