import { RedisToolkitError } from './redis-toolkit.error.js';

/** A connection could not be made ready at startup. `target` is the redacted address. */
export class RedisConnectionError extends RedisToolkitError {
  static readonly code = 'E_CONNECTION_NOT_READY';

  constructor(
    message: string,
    readonly connection: string,
    readonly target: string,
    cause?: unknown,
  ) {
    super(message, RedisConnectionError.code, { connection, target }, { cause });
  }
}
