import { RedisToolkitError } from './redis-toolkit.error.js';

/** A request was still waiting for its reply when the transport client was closed. */
export class RedisTransportClosedError extends RedisToolkitError {
  static readonly code = 'E_TRANSPORT_CLOSED';

  constructor(
    message: string,
    readonly pattern: string,
  ) {
    super(message, RedisTransportClosedError.code, { pattern });
  }
}
