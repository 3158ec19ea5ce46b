import { ApiProperty } from '@nestjs/swagger';
import type { Booking } from '../booking.interface.js';

/** A booking as the API returns it. */
export class BookingDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  slotId!: string;

  @ApiProperty({ format: 'uuid' })
  venueId!: string;

  @ApiProperty({ example: 'ada@example.com' })
  customerEmail!: string;

  @ApiProperty({ example: 1 })
  seats!: number;

  @ApiProperty({ enum: ['confirmed', 'cancelled'] })
  status!: 'confirmed' | 'cancelled';

  @ApiProperty({ description: 'Fencing token of the slot lock the booking was written under', example: 42 })
  fencingToken!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  cancelledAt!: string | null;

  static from(booking: Booking): BookingDto {
    return {
      ...booking,
      createdAt: booking.createdAt.toISOString(),
      cancelledAt: booking.cancelledAt?.toISOString() ?? null,
    };
  }
}
