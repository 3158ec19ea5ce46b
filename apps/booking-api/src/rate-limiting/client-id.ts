import { BadRequestException } from '@nestjs/common';
import type { Request } from 'express';

/** Header naming the client that `POST /holds` and `POST /bookings` count against their limit. */
export const CLIENT_ID_HEADER = 'X-Client-Id';

const VALID_CLIENT_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Who a rate-limited request counts against: `client:<X-Client-Id>` when the header is sent, else
 * `ip:<remote address>` (Express' `req.ip`, which honours `trust proxy` when the app sets it). The header is taken
 * on trust: in production a gateway that authenticates the caller sets it (an API key's id) and strips the client's
 * own, or a client could rotate it to dodge its limit.
 *
 * @throws BadRequestException (400 in the ValidationPipe's shape) when the header is present but malformed
 */
export function clientIdOf(request: Request): string {
  const header = request.header(CLIENT_ID_HEADER);
  if (header === undefined) return `ip:${request.ip ?? 'unknown'}`;
  if (!VALID_CLIENT_ID.test(header)) {
    throw new BadRequestException([
      `${CLIENT_ID_HEADER} header must be 1 to 64 characters of letters, digits, '.', '_', ':' or '-'`,
    ]);
  }
  return `client:${header}`;
}
