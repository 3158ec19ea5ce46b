import { ApiProperty } from '@nestjs/swagger';

/** One slot of a venue's day. */
export class SlotAvailabilityDto {
  @ApiProperty({ format: 'uuid' })
  slotId!: string;

  @ApiProperty({ format: 'date-time' })
  startsAt!: string;

  @ApiProperty({ format: 'date-time' })
  endsAt!: string;

  @ApiProperty({ example: 10 })
  capacity!: number;

  @ApiProperty({ example: 3 })
  bookedSeats!: number;

  @ApiProperty({ example: 7, description: 'Seats neither booked nor held (`POST /holds`)' })
  availableSeats!: number;
}

/** Body of `GET /venues/:id/availability`. */
export class VenueAvailabilityDto {
  @ApiProperty({ format: 'uuid' })
  venueId!: string;

  @ApiProperty({ example: 'Riverside Hall' })
  venueName!: string;

  @ApiProperty({ example: '2026-11-23' })
  date!: string;

  @ApiProperty({ type: [SlotAvailabilityDto] })
  slots!: SlotAvailabilityDto[];
}
