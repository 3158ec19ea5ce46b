import type { WritePacket } from '@nestjs/microservices';
import type { CommandTicket } from '../../connection/connection-gate.js';
import type { Expirable } from '../../connection/command-deadlines.js';
import { connectionSecrets, describeConnection } from '../../connection/describe-connection.js';
import { RedisConnectionError } from '../../errors/redis-connection.error.js';
import { RedisTransportTimeoutError } from '../../errors/redis-transport-timeout.error.js';
import { errorText } from '../../utils/error-text.js';
import { redactSecrets } from '../../utils/redact.js';
import { SEND_NOT_CONNECTED, SEND_TIMED_OUT, SEND_UNREACHABLE } from '../redis-transport.messages.js';
import type { ResolvedTransportOptions } from '../options/resolve-transport-options.js';

/** A `send()` waiting for its reply (or replies). */
export interface PendingRequest extends Expirable, CommandTicket {
  readonly id: string;
  /** Redis took the PUBLISH: a server may be working on it. */
  sent: boolean;
  readonly pattern: string;
  readonly reply: (packet: WritePacket) => void;
}

/** An `emit()` waiting for Redis to confirm it. */
export interface PendingEmit extends Expirable, CommandTicket {
  readonly pattern: string;
  readonly fail: (error: unknown) => void;
}

/**
 * Why a request got no reply in time. When Redis is the cause (the connection is down, or the request never got
 * to Redis) the error says so, rather than suggesting that no server handles the pattern.
 *
 * @param state `ready` when the client's connections are, else the status of the first that is not
 */
export function sendTimeoutError(
  request: PendingRequest,
  timeoutMs: number,
  state: string,
  options: ResolvedTransportOptions,
): RedisTransportTimeoutError {
  const { pattern } = request;
  if (state === 'ready' && request.sent) {
    return new RedisTransportTimeoutError(SEND_TIMED_OUT(pattern, timeoutMs), pattern, timeoutMs);
  }
  const target = describeConnection(options.connection);
  const described = state === 'ready' ? 'restored too late to send the request' : state;
  return new RedisTransportTimeoutError(SEND_UNREACHABLE(pattern, timeoutMs, target, described), pattern, timeoutMs);
}

/** A request that could not be sent because connecting failed: the error names Redis as the cause. */
export function notConnectedError(
  pattern: string,
  cause: unknown,
  options: ResolvedTransportOptions,
): RedisConnectionError {
  const target = describeConnection(options.connection);
  const reason = redactSecrets(errorText(cause), connectionSecrets(options.connection));
  return new RedisConnectionError(SEND_NOT_CONNECTED(pattern, target, reason), 'transport', target, cause);
}
