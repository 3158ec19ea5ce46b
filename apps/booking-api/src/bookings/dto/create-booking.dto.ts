import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsInt, IsUUID, Max, MaxLength, Min } from 'class-validator';

/** The most seats one booking may take. */
export const MAX_SEATS_PER_BOOKING = 10;

/** Body of `POST /bookings`. */
export class CreateBookingDto {
  @ApiProperty({ format: 'uuid', description: 'The slot to book' })
  @IsUUID()
  slotId!: string;

  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @IsEmail()
  @MaxLength(254)
  customerEmail!: string;

  @ApiProperty({ minimum: 1, maximum: MAX_SEATS_PER_BOOKING, example: 1 })
  @IsInt()
  @Min(1)
  @Max(MAX_SEATS_PER_BOOKING)
  seats!: number;
}
