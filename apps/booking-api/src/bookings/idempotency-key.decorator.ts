import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Name of the header that makes `POST /bookings` safe to retry. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

const VALID_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * The request's `Idempotency-Key` header. Required: answers 400 in the ValidationPipe's body shape when it is
 * missing or not 8–128 characters of `A–Z a–z 0–9 . _ : -` (a UUID fits).
 */
export const IdempotencyKey = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const value = context.switchToHttp().getRequest<Request>().header(IDEMPOTENCY_KEY_HEADER);
  if (value === undefined || !VALID_KEY.test(value)) {
    throw new BadRequestException([
      `${IDEMPOTENCY_KEY_HEADER} header must be 8 to 128 characters of letters, digits, '.', '_', ':' or '-'`,
    ]);
  }
  return value;
});
