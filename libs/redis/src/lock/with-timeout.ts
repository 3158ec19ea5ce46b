import { CommandDeadlines } from '../connection/command-deadlines.js';
import { LockTimeoutError } from '../errors/lock-timeout.error.js';
import { settleWithin } from '../utils/settle-within.js';

/** Deadlines for the lock's commands: a command fails with `LockTimeoutError` at most 20 ms after its timeout. */
export function lockCommandDeadlines(): CommandDeadlines {
  return new CommandDeadlines({ tickMs: 20, timeoutError: (ms) => new LockTimeoutError(ms) });
}

/** Settles like `promise`, or rejects with `LockTimeoutError` after `ms`. The promise itself keeps running. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return settleWithin(promise, Math.max(1, ms), () => new LockTimeoutError(ms));
}

/** The validity margin for clock drift: `ttl × driftFactor + 2 ms` (the Redlock paper's allowance). */
export function driftFor(ttl: number, driftFactor: number): number {
  return Math.floor(ttl * driftFactor) + 2;
}
