import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsInt, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { MAX_SEATS_PER_BOOKING } from '../../bookings/dto/create-booking.dto.js';

/** Body of `POST /holds`. */
export class CreateHoldDto {
  @ApiProperty({ format: 'uuid', description: 'The slot to hold seats on (any letter case; stored in lower case)' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value))
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
