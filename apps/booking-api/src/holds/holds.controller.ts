import { Body, Controller, Delete, Get, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiGoneResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { ParseCanonicalUuidPipe } from '../common/parse-canonical-uuid.pipe.js';
import { CLIENT_ID_HEADER } from '../rate-limiting/client-id.js';
import { RateLimitedRoute } from '../rate-limiting/rate-limited-route.decorator.js';
import { CreateHoldDto } from './dto/create-hold.dto.js';
import { HoldDto } from './dto/hold.dto.js';
import { HoldsService } from './holds.service.js';

/** `POST /holds`, `GET /holds/:id`, `DELETE /holds/:id`. */
@ApiTags('holds')
@Controller('holds')
export class HoldsController {
  constructor(private readonly holds: HoldsService) {}

  @Post()
  @RateLimitedRoute()
  @ApiHeader({ name: CLIENT_ID_HEADER, required: false, description: 'Who is rate-limited (else the address)' })
  @ApiCreatedResponse({ type: HoldDto, description: 'Held until expiresAt' })
  @ApiBadRequestResponse({ description: 'Invalid body (message lists the reasons)' })
  @ApiNotFoundResponse({ description: 'No such slot' })
  @ApiConflictResponse({ description: 'Not enough free seats (code SOLD_OUT), or the lock was lost mid-write' })
  @ApiTooManyRequestsResponse({ description: 'Over the per-client limit (Retry-After, RateLimit-* headers)' })
  @ApiResponse({ status: HttpStatus.LOCKED, description: 'The slot stayed locked past the wait (code SLOT_LOCKED)' })
  async create(@Body() body: CreateHoldDto): Promise<HoldDto> {
    return HoldDto.from(await this.holds.place(body));
  }

  @Get(':id')
  @ApiOkResponse({ type: HoldDto })
  @ApiNotFoundResponse({ description: 'No such hold' })
  async get(@Param('id', new ParseCanonicalUuidPipe()) id: string): Promise<HoldDto> {
    return HoldDto.from(await this.holds.get(id));
  }

  @Delete(':id')
  @ApiOkResponse({ type: HoldDto, description: 'Cancelled, its seats freed (cancelling again returns the same hold)' })
  @ApiNotFoundResponse({ description: 'No such hold' })
  @ApiGoneResponse({ description: 'Already released after it expired (code HOLD_RELEASED)' })
  @ApiConflictResponse({ description: 'Already confirmed: cancel the booking instead (code HOLD_CONFIRMED)' })
  async cancel(@Param('id', new ParseCanonicalUuidPipe()) id: string): Promise<HoldDto> {
    return HoldDto.from(await this.holds.cancel(id));
  }
}
