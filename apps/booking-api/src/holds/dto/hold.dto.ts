import { ApiProperty } from '@nestjs/swagger';
import type { Hold } from '../hold.interface.js';

/** A hold as the API returns it. */
export class HoldDto {
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

  @ApiProperty({
    enum: ['held', 'expired', 'confirmed', 'cancelled', 'released'],
    description: '`expired`: past its expiry, its seats about to be released by the worker',
  })
  status!: 'held' | 'expired' | 'confirmed' | 'cancelled' | 'released';

  @ApiProperty({ format: 'date-time' })
  expiresAt!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  endedAt!: string | null;

  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The booking that confirmed it' })
  bookingId!: string | null;

  static from(hold: Hold, now = Date.now()): HoldDto {
    const expired = hold.status === 'held' && hold.expiresAt.getTime() <= now;
    return {
      ...hold,
      status: expired ? 'expired' : hold.status,
      expiresAt: hold.expiresAt.toISOString(),
      createdAt: hold.createdAt.toISOString(),
      endedAt: hold.endedAt?.toISOString() ?? null,
    };
  }
}
