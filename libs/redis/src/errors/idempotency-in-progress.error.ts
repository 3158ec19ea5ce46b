import { RedisToolkitError } from './redis-toolkit.error.js';

/**
 * Another consumer is processing the same idempotency key right now. Thrown so that the streams server retries the
 * entry later instead of acknowledging it: if that other consumer crashes, the work is still done once.
 */
export class IdempotencyInProgressError extends RedisToolkitError {
  static readonly code = 'E_IDEMPOTENCY_IN_PROGRESS';

  constructor(
    message: string,
    readonly key: string,
  ) {
    super(message, IdempotencyInProgressError.code, { key });
  }
}
