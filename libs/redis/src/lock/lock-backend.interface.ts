import type { LockKeys } from './lock-keys.js';

/** Why one attempt did not grant the lock. */
export type AttemptFailure = 'contention' | 'unreachable' | 'no-quorum';

export type AttemptResult =
  | {
      granted: true;
      fencingToken: number;
      /** Local time (ms) until which the lock is safely ours: attempt start + ttl − drift. */
      validUntil: number;
    }
  | {
      granted: false;
      failure: AttemptFailure;
      error?: unknown;
      /** Single node, contention: the fence counter when Redis answered, and when the attempt was sent (local ms). */
      denied?: { fence: number; sentAt: number };
    };

export type ExtendResult =
  { ok: true; validUntil: number } | { ok: false; failure: 'taken' | 'unreachable'; error?: unknown };

export interface ReleaseResult {
  /** The token still owned the lock (on a quorum, for Redlock) and it was released. */
  owned: boolean;
}

/** Where locks live: one Redis (with FIFO hand-over) or a Redlock quorum. Internal. */
export interface LockBackend {
  readonly mode: 'single' | 'redlock';
  /**
   * One acquisition attempt.
   * @param leaseMs > 0: join the waiters (renewing this lease) when busy; 0: just try
   * @param timeoutMs how long to wait for Redis before counting the attempt as failed
   * @param retry the token attempted before (it may be queued or hold a reservation); `false` lets a backend take
   *   the cheaper path of a fresh token
   */
  attempt(
    keys: LockKeys,
    token: string,
    ttl: number,
    leaseMs: number,
    timeoutMs: number,
    retry?: boolean,
  ): Promise<AttemptResult>;
  extend(keys: LockKeys, token: string, ttl: number, timeoutMs: number): Promise<ExtendResult>;
  /**
   * Owner-checked release; `leave` also withdraws a waiter (passing on a hand-over it did not claim).
   * @param timeoutMs how long to wait for Redis: then rejects with `LockTimeoutError` (the release may still run
   *   later, which is harmless: it is owner-checked)
   */
  release(keys: LockKeys, token: string, leave: boolean, timeoutMs: number): Promise<ReleaseResult>;
  /**
   * Subscribes to wake-ups (once): the shared wake channel and this instance's own (`<channel>:<instance>`);
   * messages are passed to the listener given at construction. With sharded pub/sub (a Cluster) wake-ups are per
   * resource: `keys` names it, and {@link doneWaiting} ends the wait (the others ignore both).
   */
  ensureSubscribed(keys?: LockKeys): Promise<void>;
  /** Ends a wait whose `ensureSubscribed(keys)` was called (sharded wake-ups unsubscribe unused channels). */
  doneWaiting?(keys: LockKeys): void;
  close(): Promise<void>;
}
