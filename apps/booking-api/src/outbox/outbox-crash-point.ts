/**
 * The fault test's crash hook (`apps/booking-api/test/outbox-crash.fault-spec.ts`), off unless
 * `OUTBOX_TEST_CRASH_RATE` is set: at the two moments an outbox exists for, right after a booking's transaction
 * committed (before its event is relayed) and right after an event was published (before it is marked), the process
 * SIGKILLs itself with that probability. A SIGKILL from outside rarely lands in those windows, which last
 * microseconds; this makes the test cross both many times per run. Demo-only: the library knows nothing of it.
 */
export const OUTBOX_TEST_CRASH_RATE = 'OUTBOX_TEST_CRASH_RATE';

/** Where the process may be made to die. */
export type OutboxCrashPoint = 'after-commit' | 'after-publish';

/**
 * Reads the crash probability from the environment.
 *
 * @returns 0 when unset
 * @throws Error naming `OUTBOX_TEST_CRASH_RATE` when it is not a number from 0 to 1
 */
export function outboxCrashRate(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[OUTBOX_TEST_CRASH_RATE]?.trim();
  if (raw === undefined || raw === '') return 0;
  const rate = Number(raw);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new Error(`${OUTBOX_TEST_CRASH_RATE} must be a number from 0 to 1 (a probability), got "${raw}".`);
  }
  return rate;
}

const rate = outboxCrashRate();

/** Kills this process with SIGKILL (no shutdown hooks, no flush), with probability `OUTBOX_TEST_CRASH_RATE`. */
export function maybeCrashAt(point: OutboxCrashPoint): void {
  if (rate === 0 || Math.random() >= rate) return;
  process.stderr.write(`${OUTBOX_TEST_CRASH_RATE}: SIGKILL ${point}\n`);
  process.kill(process.pid, 'SIGKILL');
}
