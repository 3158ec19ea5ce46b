import { Body, Controller, Delete, Get, HttpStatus, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { BookingsService } from './bookings.service.js';
import { BookingDto } from './dto/booking.dto.js';
import { CreateBookingDto } from './dto/create-booking.dto.js';
import { IDEMPOTENCY_KEY_HEADER, IdempotencyKey } from './idempotency-key.decorator.js';

/** `POST /bookings`, `GET /bookings/:id`, `DELETE /bookings/:id`. */
@ApiTags('bookings')
@Controller('bookings')
export class BookingsController {
  constructor(private readonly bookings: BookingsService) {}

  @Post()
  @ApiHeader({ name: IDEMPOTENCY_KEY_HEADER, required: true, description: 'Retry with the same key: same booking' })
  @ApiCreatedResponse({ type: BookingDto, description: 'Booked' })
  @ApiOkResponse({ type: BookingDto, description: 'Replay: the booking made earlier with this Idempotency-Key' })
  @ApiBadRequestResponse({ description: 'Invalid body or Idempotency-Key (message lists the reasons)' })
  @ApiNotFoundResponse({ description: 'No such slot' })
  @ApiConflictResponse({ description: 'Sold out (code SOLD_OUT), or the lock was lost mid-write' })
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
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<BookingDto> {
    return BookingDto.from(await this.bookings.get(id));
  }

  @Delete(':id')
  @ApiOkResponse({ type: BookingDto, description: 'Cancelled (cancelling again returns the same booking)' })
  @ApiNotFoundResponse({ description: 'No such booking' })
  async cancel(@Param('id', new ParseUUIDPipe()) id: string): Promise<BookingDto> {
    return BookingDto.from(await this.bookings.cancel(id));
  }
}
