import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsEmail,
  IsInt,
  IsUUID,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  type ValidationArguments,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
  Validate,
} from 'class-validator';

/** The most seats one booking (or hold) may take. */
export const MAX_SEATS_PER_BOOKING = 10;

/** The fields of a direct booking, which a hold confirmation takes from the hold instead. */
const DIRECT_FIELDS = ['slotId', 'customerEmail', 'seats'] as const;

const toLowerCase = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value);

@ValidatorConstraint({ name: 'holdIdAlone' })
class HoldIdAlone implements ValidatorConstraintInterface {
  validate(_: unknown, args: ValidationArguments): boolean {
    const body = args.object as Record<string, unknown>;
    return DIRECT_FIELDS.every((field) => body[field] === undefined);
  }

  defaultMessage(): string {
    return 'holdId must be sent alone: the hold already names the slot, the customer and the seats';
  }
}

/**
 * Body of `POST /bookings`, in one of two forms:
 * - `{ holdId }` confirms a seat hold (`POST /holds`): the booking takes the hold's slot, customer and seats, after
 *   the simulated payment step;
 * - `{ slotId, customerEmail, seats }` books directly (no hold, no payment step), as before holds existed: it takes
 *   free seats (neither booked nor held) at once.
 */
export class CreateBookingDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'The hold to confirm (send it alone)' })
  @ValidateIf((body: CreateBookingDto) => body.holdId !== undefined)
  @Transform(toLowerCase)
  @IsUUID()
  @Validate(HoldIdAlone)
  holdId?: string;

  @ApiProperty({
    format: 'uuid',
    required: false,
    description: 'Direct booking: the slot to book (any letter case; stored and locked in lower case)',
  })
  // Canonical before it becomes the lock resource and fencing counter `slot:<id>`: one slot, one lock.
  @ValidateIf((body: CreateBookingDto) => body.holdId === undefined)
  @Transform(toLowerCase)
  @IsUUID()
  slotId?: string;

  @ApiProperty({ example: 'ada@example.com', maxLength: 254, required: false })
  @ValidateIf((body: CreateBookingDto) => body.holdId === undefined)
  @IsEmail()
  @MaxLength(254)
  customerEmail?: string;

  @ApiProperty({ minimum: 1, maximum: MAX_SEATS_PER_BOOKING, example: 1, required: false })
  @ValidateIf((body: CreateBookingDto) => body.holdId === undefined)
  @IsInt()
  @Min(1)
  @Max(MAX_SEATS_PER_BOOKING)
  seats?: number;
}

/** A direct booking request, once validated. */
export type DirectBookingRequest = Required<Pick<CreateBookingDto, 'slotId' | 'customerEmail' | 'seats'>>;
