import { Body, Controller, Delete, Get, HttpStatus, Param, Post, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiGoneResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ParseCanonicalUuidPipe } from '../common/parse-canonical-uuid.pipe.js';
import { CLIENT_ID_HEADER } from '../rate-limiting/client-id.js';
import { RateLimitedRoute } from '../rate-limiting/rate-limited-route.decorator.js';
import { BookingsService } from './bookings.service.js';
import { BookingDto } from './dto/booking.dto.js';
import { CreateBookingDto } from './dto/create-booking.dto.js';
import { IDEMPOTENCY_KEY_HEADER, IdempotencyKey } from './idempotency-key.decorator.js';

/** `POST /bookings` (direct, or confirming a hold), `GET /bookings/:id`, `DELETE /bookings/:id`. */
@ApiTags('bookings')
@Controller('bookings')
export class BookingsController {
  constructor(private readonly bookings: BookingsService) {}

  @Post()
  @RateLimitedRoute()
  @ApiHeader({ name: IDEMPOTENCY_KEY_HEADER, required: true, description: 'Retry with the same key: same booking' })
  @ApiHeader({ name: CLIENT_ID_HEADER, required: false, description: 'Who is rate-limited (else the address)' })
  @ApiCreatedResponse({ type: BookingDto, description: 'Booked' })
  @ApiOkResponse({ type: BookingDto, description: 'Replay: the booking made earlier with this Idempotency-Key' })
  @ApiBadRequestResponse({ description: 'Invalid body or Idempotency-Key (message lists the reasons)' })
  @ApiNotFoundResponse({ description: 'No such slot, or no such hold' })
  @ApiConflictResponse({
    description: 'Sold out (code SOLD_OUT), hold confirmed by another request (HOLD_CONFIRMED), or the lock was lost',
  })
  @ApiGoneResponse({ description: 'The hold expired, was released or cancelled (HOLD_EXPIRED, …)' })
  @ApiTooManyRequestsResponse({ description: 'Over the per-client limit (Retry-After, RateLimit-* headers)' })
  @ApiServiceUnavailableResponse({ description: 'No payment permit in time (PAYMENTS_BUSY), or Redis unreachable' })
  @ApiUnprocessableEntityResponse({ description: 'Idempotency-Key already used for a different request' })
  @ApiResponse({ status: HttpStatus.LOCKED, description: 'The slot stayed locked past the wait (code SLOT_LOCKED)' })
  async create(
    @Body() body: CreateBookingDto,
    @IdempotencyKey() idempotencyKey: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<BookingDto> {
    const { booking, replayed } = await this.bookings.create(body, idempotencyKey);
    response.status(replayed ? HttpStatus.OK : HttpStatus.CREATED);
    if (replayed) response.setHeader('Idempotent-Replayed', 'true');
    return BookingDto.from(booking);
  }

  @Get(':id')
  @ApiOkResponse({ type: BookingDto })
  @ApiNotFoundResponse({ description: 'No such booking' })
  async get(@Param('id', new ParseCanonicalUuidPipe()) id: string): Promise<BookingDto> {
    return BookingDto.from(await this.bookings.get(id));
  }

  @Delete(':id')
  @ApiOkResponse({ type: BookingDto, description: 'Cancelled (cancelling again returns the same booking)' })
  @ApiNotFoundResponse({ description: 'No such booking' })
  async cancel(@Param('id', new ParseCanonicalUuidPipe()) id: string): Promise<BookingDto> {
    return BookingDto.from(await this.bookings.cancel(id));
  }
}
