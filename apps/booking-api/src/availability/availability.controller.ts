import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CacheService, type CacheServedInfo } from '@app/redis';
import type { Response } from 'express';
import { endOfTurn } from '../common/end-of-turn.js';
import { ParseCanonicalUuidPipe } from '../common/parse-canonical-uuid.pipe.js';
import { AvailabilityService } from './availability.service.js';
import { VenueAvailabilityDto } from './dto/venue-availability.dto.js';
import { ParseDatePipe } from './parse-date.pipe.js';

/** `GET /venues/:id/availability?date=YYYY-MM-DD`. */
@ApiTags('availability')
@Controller('venues')
export class AvailabilityController {
  constructor(
    private readonly availability: AvailabilityService,
    private readonly cache: CacheService,
  ) {}

  @Get(':id/availability')
  @ApiQuery({ name: 'date', required: true, description: 'Day to list (UTC), as YYYY-MM-DD', example: '2026-11-23' })
  @ApiOkResponse({
    type: VenueAvailabilityDto,
    description: "The venue's slots on that day (UTC)",
    headers: {
      'Cache-Status': {
        description: 'How the cache served it (RFC 9211): `booking-api; hit`, `booking-api; fwd=miss`, …',
        schema: { type: 'string' },
      },
    },
  })
  @ApiBadRequestResponse({ description: 'The id is not a UUID or the date is not YYYY-MM-DD' })
  @ApiNotFoundResponse({ description: 'No such venue' })
  async availabilityOn(
    @Param('id', new ParseCanonicalUuidPipe()) venueId: string,
    @Query('date', new ParseDatePipe()) date: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<VenueAvailabilityDto> {
    // observeCall, not observe: the cached call starts synchronously, and observe's AsyncLocalStorage would slow
    // down every promise of the process from its first request on (Node.js 20).
    const { value, served } = await this.cache.observeCall(() => this.availability.forVenue(venueId, date));
    if (served.length > 0) response.setHeader('Cache-Status', served.map(cacheStatus).join(', '));
    // The hot read: under load, answers leave together with the others of this turn (see endOfTurn).
    await endOfTurn();
    return value;
  }
}

/** One `Cache-Status` member (RFC 9211): `hit`, or `fwd=` the reason the cache did not answer alone. */
function cacheStatus(served: CacheServedInfo): string {
  if (served.status === 'hit') return 'booking-api; hit';
  if (served.status === 'stale') return 'booking-api; hit; fwd=stale';
  return `booking-api; fwd=${served.status}`;
}
