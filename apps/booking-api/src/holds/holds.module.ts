import { Module } from '@nestjs/common';
import { AvailabilityModule } from '../availability/availability.module.js';
import { ApiConfigModule } from '../config/api-config.module.js';
import { HoldStateStore } from './hold-state.store.js';
import { HoldsController } from './holds.controller.js';
import { HoldsRepository } from './holds.repository.js';
import { HoldsService } from './holds.service.js';

/** Seat holds: placed and cancelled under the slot lock, kept in Redis while they live; confirmed by bookings. */
@Module({
  imports: [ApiConfigModule, AvailabilityModule],
  controllers: [HoldsController],
  providers: [HoldsRepository, HoldsService, HoldStateStore],
  exports: [HoldsService, HoldStateStore],
})
export class HoldsModule {}
