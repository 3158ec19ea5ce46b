import { RedisToolkitError } from './redis-toolkit.error.js';

/**
 * Why no permit was acquired:
 * - `contention`: every permit stayed taken (or earlier waiters were ahead) for the whole `waitTimeout`;
 * - `unreachable`: Redis did not answer (down, paused, or the connection is not ready);
 * - `aborted`: the caller's `signal` aborted the wait.
 */
export type SemaphoreNotAcquiredReason = 'contention' | 'unreachable' | 'aborted';

/**
 * No permit of a semaphore could be acquired within `waitTimeout`. The protected code did not run, and the waiter
 * left the queue: a permit handed to it while it was giving up is passed on, never leaked.
 */
export class SemaphoreNotAcquiredError extends RedisToolkitError {
  static readonly code = 'E_SEMAPHORE_NOT_ACQUIRED';

  constructor(
    message: string,
    /** The semaphore name as given (without the key prefix). */
    readonly semaphore: string,
    readonly permits: number,
    readonly reason: SemaphoreNotAcquiredReason,
    /** How long the caller waited, in ms. */
    readonly waitedMs: number,
    cause?: unknown,
  ) {
    super(message, SemaphoreNotAcquiredError.code, { semaphore, permits, reason, waitedMs }, { cause });
  }
}
