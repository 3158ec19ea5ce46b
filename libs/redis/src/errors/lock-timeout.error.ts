import { RedisToolkitError } from './redis-toolkit.error.js';

/**
 * A lock command (acquire, extend, release script) got no answer from Redis within its deadline: the node is down,
 * paused or overloaded. Internal to the lock machinery, it reaches callers as the `cause` of `LockNotAcquiredError`
 * (`reason: 'unreachable'`) or of an `E_LOCK_RELEASE_TIMEOUT` / `E_LOCK_EXTEND_FAILED` error.
 */
export class LockTimeoutError extends RedisToolkitError {
  static readonly code = 'E_LOCK_TIMEOUT';

  constructor(readonly timeoutMs: number) {
    super(`no answer from Redis within ${timeoutMs} ms`, LockTimeoutError.code, { timeoutMs });
  }
}
