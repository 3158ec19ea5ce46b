import { RedisToolkitError } from './redis-toolkit.error.js';

/**
 * A `send()` got no (further) reply within `sendTimeout` (no server handles the pattern, or it is too slow), or an
 * `emit()` was not confirmed by Redis within `emitTimeout` (Redis unreachable; the event's outcome is unknown).
 */
export class RedisTransportTimeoutError extends RedisToolkitError {
  static readonly code = 'E_TRANSPORT_TIMEOUT';

  constructor(
    message: string,
    readonly pattern: string,
    readonly timeoutMs: number,
  ) {
    super(message, RedisTransportTimeoutError.code, { pattern, timeoutMs });
  }
}
