import { LockNotAcquiredError, type LockNotAcquiredReason } from '../errors/lock-not-acquired.error.js';
import type { AttemptFailure, LockBackend } from './lock-backend.interface.js';
import type { LockKeys } from './lock-keys.js';
import { LOCK_NOT_ACQUIRED } from './lock.messages.js';
import type { ResolvedLockOptions } from './lock-options.interface.js';
import type { LockWaiter, LockWaiters } from './lock-waiters.js';
import { waitWithin } from '../utils/settle-within.js';
import { driftFor } from './with-timeout.js';

/** The options of one call: the module defaults merged with the call's own, once. */
export type LockCallOptions = Omit<ResolvedLockOptions, 'nodes' | 'driftFactor' | 'releaseTimeout'> & {
  signal?: AbortSignal;
};

/** Shortest wait for Redis on one attempt, even when `waitTimeout` is 0. */
const MIN_ATTEMPT_TIMEOUT_MS = 500;

/** What every acquisition of one LockService shares. */
export interface LockAcquisitionContext {
  backend: LockBackend;
  waiters: LockWaiters;
  driftFactor: number;
  releaseTimeout: number;
  /** Reports a failed acquisition (instrumentation) before its error is thrown. */
  onFailed(reason: LockNotAcquiredReason, waitMs: number, resource: string): void;
  /**
   * Wake-up subscriptions known to be in place: the promises `ensureSubscribed` returned, once resolved. A backend
   * hands every caller the same promise per subscription (one per process, or one per resource with sharded wake-ups)
   * and a new one after a lost subscription is made again, so a wait that finds its promise here missed nothing.
   */
  subscriptionsInPlace: WeakSet<Promise<void>>;
}

/** A granted lock: what the service turns into a handle. */
export interface LockGrant {
  fencingToken: number;
  validUntil: number;
}

/**
 * One `acquire` / `tryAcquire`: attempts, waits to be woken (a hand-over or a release) or for the next fallback poll,
 * and attempts again until granted, `waitTimeout` runs out or `signal` aborts. A single-node hand-over announced
 * after our last "busy" answer makes us the owner without another attempt (see `SingleNodeLocks`).
 */
export class LockAcquisition {
  private readonly deadline: number;
  private readonly waiting: boolean;
  private failure?: { failure: AttemptFailure; error?: unknown };
  private denied?: { fence: number; sentAt: number };
  private waiter?: LockWaiter;
  private subscribed = false;

  constructor(
    private readonly context: LockAcquisitionContext,
    private readonly resource: string,
    private readonly keys: LockKeys,
    private readonly token: string,
    private readonly options: LockCallOptions,
    private readonly started: number,
  ) {
    this.deadline = started + options.waitTimeout;
    this.waiting = options.waitTimeout > 0;
  }

  /**
   * @returns the grant; `null` when `tryOnly` and the lock is held by another owner
   * @throws LockNotAcquiredError when not acquired in time, Redis did not answer, or `signal` aborted
   */
  async run(tryOnly: boolean): Promise<LockGrant | null> {
    const { backend, waiters } = this.context;
    const { options } = this;
    if (this.waiting) this.waiter = waiters.add(this.token);
    try {
      const leaseMs = this.waiting ? leaseFor(options) : 0;
      for (let retry = false; ; retry = true) {
        const remaining = this.deadline - Date.now();
        const attemptTimeout = Math.max(MIN_ATTEMPT_TIMEOUT_MS, Math.min(options.ttl, remaining));
        const result = await backend.attempt(this.keys, this.token, options.ttl, leaseMs, attemptTimeout, retry);
        if (result.granted) return { fencingToken: result.fencingToken, validUntil: result.validUntil };
        this.failure = result;
        if (result.denied) this.denied = result.denied;
        const handed = this.handedOver();
        if (handed) return handed;
        if (!this.waiter || Date.now() >= this.deadline || options.signal?.aborted) break;
        await this.waitForWake(this.waiter);
        const woken = this.handedOver();
        if (woken) return woken;
      }
    } finally {
      if (this.waiter) waiters.remove(this.token, this.waiter);
      if (this.subscribed) backend.doneWaiting?.(this.keys);
    }

    // Leave the waiter queue: a stale entry at its head would be handed the lock nobody takes.
    if (this.waiting) {
      backend.release(this.keys, this.token, true, this.context.releaseTimeout).catch(() => undefined);
    }
    if (options.signal?.aborted) throw this.notAcquired('aborted');
    if (tryOnly && this.failure?.failure === 'contention') return null;
    throw this.notAcquired(this.failure?.failure ?? 'contention', this.failure?.error);
  }

  private notAcquired(reason: LockNotAcquiredReason, cause?: unknown): LockNotAcquiredError {
    return lockNotAcquired(this.resource, this.started, reason, this.context.onFailed, cause);
  }

  private async waitForWake(waiter: LockWaiter): Promise<void> {
    const { options, context } = this;
    if (!this.subscribed) {
      this.subscribed = true;
      // Bounded by the wait: with Redis down, the SUBSCRIBE sits in the reconnecting subscriber's offline queue
      // until ioredis fails it after 20 reconnection attempts (about 10 s, then every ~33 s), and the 503 once
      // came 45.9 s after a 10 s wait. Not subscribed in time: the waiter polls every retryDelay instead.
      const subscribing = context.backend.ensureSubscribed(this.keys);
      if (!context.subscriptionsInPlace.has(subscribing)) {
        subscribing.then(
          () => context.subscriptionsInPlace.add(subscribing),
          () => undefined,
        );
        await waitWithin(subscribing, this.deadline - Date.now());
        // This wait began before its wake-up subscription took effect: a hand-over published meanwhile was missed,
        // so attempt again at once rather than after a whole retryDelay.
        return;
      }
    }
    const delay = options.retryDelay + Math.random() * options.retryJitter;
    await waiter.wait(Math.min(delay, Math.max(0, this.deadline - Date.now())), options.signal);
  }

  /** A hand-over announced after our last "busy" answer: the lock is ours, valid from when that attempt was sent. */
  private handedOver(): LockGrant | undefined {
    const handoff = this.waiter?.handoff;
    const denied = this.denied;
    if (handoff === undefined || denied === undefined || handoff <= denied.fence) return undefined;
    const { ttl } = this.options;
    const validUntil = denied.sentAt + ttl - driftFor(ttl, this.context.driftFactor);
    // Too little validity left to hand out: the next attempt re-takes it under our token with a fresh ttl.
    return validUntil > Date.now() ? { fencingToken: handoff, validUntil } : undefined;
  }
}

/** The error for a failed acquisition of `resource` begun at `started`, reported through `onFailed` first. */
export function lockNotAcquired(
  resource: string,
  started: number,
  reason: LockNotAcquiredReason,
  onFailed: (reason: LockNotAcquiredReason, waitMs: number, resource: string) => void,
  cause?: unknown,
): LockNotAcquiredError {
  const waited = Date.now() - started;
  onFailed(reason, waited, resource);
  return new LockNotAcquiredError(LOCK_NOT_ACQUIRED(resource, waited, reason), resource, reason, waited, cause);
}

/** How long a waiter stays queued without renewing: a few fallback polls, so a crashed waiter soon drops out. */
function leaseFor(options: Pick<LockCallOptions, 'retryDelay' | 'retryJitter'>): number {
  return 3 * (options.retryDelay + options.retryJitter) + 1_000;
}
