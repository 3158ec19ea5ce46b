import type { SemaphoreNotAcquiredReason } from '../errors/semaphore-not-acquired.error.js';

/** Message builders of the semaphore feature. Names are chosen by the application, never secrets. */

const NOT_ACQUIRED_BECAUSE: Record<SemaphoreNotAcquiredReason, string> = {
  contention: 'every permit stayed taken',
  unreachable: 'Redis did not answer',
  aborted: 'the wait was aborted',
};

export const SEMAPHORE_NOT_ACQUIRED = (
  name: string,
  permits: number,
  waitedMs: number,
  reason: SemaphoreNotAcquiredReason,
): string =>
  `Semaphore "${name}" (${permits} permits): no permit after ${waitedMs} ms: ${NOT_ACQUIRED_BECAUSE[reason]}.`;

export const SEMAPHORE_RELEASE_FAILED = (name: string, reason: string): string =>
  `Semaphore "${name}": a permit could not be released (${reason}); it frees itself after its ttl.`;
