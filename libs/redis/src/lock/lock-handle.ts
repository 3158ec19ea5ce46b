import type { Logger } from '@nestjs/common';
import { LockLostError, type LockLostReason } from '../errors/lock-lost.error.js';
import { RedisToolkitError } from '../errors/redis-toolkit.error.js';
import type { LockBackend } from './lock-backend.interface.js';
import type { Lock } from './lock.interface.js';
import type { LockKeys } from './lock-keys.js';
import { LOCK_EXTEND_FAILED, LOCK_LOST, LOCK_RELEASE_TIMED_OUT, LOCK_RELEASED } from './lock.messages.js';
import type { DeferredWatchdog, WatchdogArming } from './watchdog-arming.js';
import { LockTimeoutError } from '../errors/lock-timeout.error.js';

/** The per-lock settings of a handle (the call's resolved options). */
export interface LockHandleTimings {
  ttl: number;
  autoExtend: boolean;
  maxHoldTime: number;
}

/** What every lock of one LockService shares (created once, so acquiring allocates no context). */
export interface LockHandleContext {
  backend: LockBackend;
  /** How long `release()` waits for Redis before it rejects with `E_LOCK_RELEASE_TIMEOUT`. */
  releaseTimeout: number;
  /** Defers creating the watchdog's timer: most locks are released before it would first fire. */
  arming: WatchdogArming;
  logger: Logger;
  /** Called once when the lock stops being held (released or lost). */
  onSettled(handle: LockHandle): void;
  /** Called once if the lock is lost (after the loss is logged, before `signal` aborts). */
  onLost(): void;
}

/**
 * A held lock and its watchdog. While `autoExtend` is on, the lock is renewed every `ttl / 3` (retried quickly when
 * Redis does not answer) up to `maxHoldTime` after acquisition. A local timer fires at `expiresAt`: if no renewal
 * moved it, the lock is treated as lost, so `signal` aborts no later than Redis could let someone else in.
 */
export class LockHandle implements Lock, DeferredWatchdog {
  /** Created on first use of `signal`: most locks are released without anyone reading it. */
  private controller?: AbortController;
  private lostError?: LockLostError;
  private state: 'held' | 'released' | 'lost' = 'held';
  private validUntil: number;
  private readonly holdDeadline: number;
  /** The last renewal was shortened to end at `maxHoldTime`. */
  private capped = false;
  private renewTimer?: NodeJS.Timeout;
  private expiryTimer?: NodeJS.Timeout;
  /** When the lock was granted (`Date.now()`): the start of its hold, for the instrumentation. */
  readonly grantedAt = Date.now();

  constructor(
    readonly resource: string,
    readonly token: string,
    readonly fencingToken: number,
    validUntil: number,
    acquiredAt: number,
    private readonly keys: LockKeys,
    private readonly timings: LockHandleTimings,
    private readonly context: LockHandleContext,
  ) {
    this.validUntil = validUntil;
    this.holdDeadline = acquiredAt + timings.maxHoldTime;
    const left = validUntil - Date.now();
    if (!context.arming.defer(this, timings.autoExtend ? Math.min(timings.ttl / 3, left / 2) : left)) this.arm();
  }

  get expiresAt(): number {
    return this.validUntil;
  }

  get signal(): AbortSignal {
    this.loseIfOverdue();
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.lostError) this.controller.abort(this.lostError);
    }
    return this.controller.signal;
  }

  /** The `LockLostError` the lock was lost with, if it was. */
  get lost(): LockLostError | undefined {
    return this.lostError;
  }

  /** Whether the lock is still held as far as this process knows. */
  get held(): boolean {
    this.loseIfOverdue();
    return this.state === 'held';
  }

  async extend(ttl: number = this.timings.ttl): Promise<void> {
    if (this.state === 'released') throw new RedisToolkitError(LOCK_RELEASED(this.resource), 'E_LOCK_RELEASED');
    if (this.state === 'lost') throw this.lostError as LockLostError;
    const result = await this.context.backend.extend(this.keys, this.token, ttl, this.timeLeft());
    if (this.state !== 'held') return this.extend(ttl);
    if (result.ok) {
      this.validUntil = result.validUntil;
      this.capped = false;
      this.arm();
      return;
    }
    if (result.failure === 'taken') throw this.lose('taken');
    throw new RedisToolkitError(
      LOCK_EXTEND_FAILED(this.resource, 'Redis did not answer'),
      'E_LOCK_EXTEND_FAILED',
      { resource: this.resource },
      { cause: result.error },
    );
  }

  /**
   * Stops the watchdog at once, then releases the lock in Redis (owner-checked), waiting at most `releaseTimeout`.
   * @returns `true` when it was still ours, `false` when it had been lost or already released
   * @throws RedisToolkitError `E_LOCK_RELEASE_TIMEOUT` when Redis (a Redlock majority) did not answer within
   *   `releaseTimeout`: the lock then expires after its ttl (the release may still reach Redis later; it is
   *   owner-checked, so it never deletes a newer owner's lock); Redis' own error when it refused the command
   */
  async release(): Promise<boolean> {
    if (this.state === 'released') return false;
    const wasHeld = this.state === 'held';
    this.settle('released');
    const { backend, releaseTimeout } = this.context;
    try {
      const result = await backend.release(this.keys, this.token, false, releaseTimeout);
      return wasHeld && result.owned;
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      throw new RedisToolkitError(
        LOCK_RELEASE_TIMED_OUT(this.resource, releaseTimeout),
        'E_LOCK_RELEASE_TIMEOUT',
        { resource: this.resource },
        { cause: error },
      );
    }
  }

  /** Arms the watchdog whose arming was deferred at acquisition, unless the lock settled or is armed already. */
  armDeferred(): void {
    if (this.state === 'held' && this.renewTimer === undefined && this.expiryTimer === undefined) this.arm();
  }

  /** Stops the watchdog without touching Redis (shutdown after a failed release). */
  dispose(): void {
    this.settle('released');
  }

  private timeLeft(): number {
    return Math.max(1, this.validUntil - Date.now());
  }

  /**
   * Schedules the next watchdog event. With auto-extension that is the renewal, well before expiry (the expiry timer
   * is armed when the renewal starts, in case it hangs); otherwise the expiry itself.
   */
  private arm(): void {
    clearTimeout(this.renewTimer);
    this.clearExpiry();
    if (this.loseIfOverdue()) return;
    const now = Date.now();
    if (this.timings.autoExtend && !this.capped && now < this.holdDeadline) {
      this.scheduleRenewal(Math.min(this.timings.ttl / 3, (this.validUntil - now) / 2));
    } else {
      this.armExpiry();
    }
  }

  private armExpiry(): void {
    if (this.expiryTimer) return;
    this.expiryTimer = setTimeout(() => this.onExpiry(), Math.max(0, this.validUntil - Date.now()));
    this.expiryTimer.unref();
  }

  private clearExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  private scheduleRenewal(delayMs: number): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(), Math.max(0, delayMs));
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    if (this.state !== 'held' || this.loseIfOverdue()) return;
    this.armExpiry();
    const holdLeft = this.holdDeadline - Date.now();
    if (holdLeft <= 0) {
      this.capped = true;
      return;
    }
    const ttl = Math.min(this.timings.ttl, holdLeft);
    const result = await this.context.backend.extend(this.keys, this.token, ttl, this.timeLeft());
    if (this.state !== 'held') return;
    if (result.ok) {
      this.validUntil = result.validUntil;
      this.capped = ttl < this.timings.ttl;
      this.arm();
    } else if (result.failure === 'taken') {
      this.lose('taken');
    } else if (Date.now() < this.validUntil) {
      // Redis did not answer: try again while the lock is still valid; the expiry timer covers the rest.
      this.scheduleRenewal(Math.min(this.timings.ttl / 10, (this.validUntil - Date.now()) / 2));
    }
  }

  /**
   * Loses the lock at once when its validity has already run out: after the process was paused (a long GC, a frozen
   * VM, SIGSTOP) the overdue timers fire in due order, and a renewal or an arming that finds the deadline passed must
   * not wait for another timer (or for Redis) to say so. A paused holder's `signal` is then aborted by the first
   * watchdog timer that fires on resume, before any Redis reply the holder's own code is waiting for can arrive.
   * @returns whether the lock is (now) lost
   */
  private loseIfOverdue(): boolean {
    if (this.state === 'held' && Date.now() >= this.validUntil) {
      this.lose(this.capped || Date.now() >= this.holdDeadline ? 'max-hold-time' : 'expired');
    }
    return this.state === 'lost';
  }

  private onExpiry(): void {
    this.expiryTimer = undefined;
    if (this.state !== 'held') return;
    if (Date.now() < this.validUntil) {
      this.arm();
      return;
    }
    this.lose(this.capped || Date.now() >= this.holdDeadline ? 'max-hold-time' : 'expired');
  }

  private lose(reason: LockLostReason): LockLostError {
    const error = new LockLostError(
      LOCK_LOST(this.resource, this.fencingToken, reason),
      this.resource,
      reason,
      this.fencingToken,
    );
    if (this.state !== 'held') return error;
    this.lostError = error;
    this.settle('lost');
    this.context.logger.warn(error.message);
    this.context.onLost();
    this.controller?.abort(error);
    return error;
  }

  private settle(state: 'released' | 'lost'): void {
    if (this.state !== 'held') return;
    this.state = state;
    this.context.arming.cancel(this);
    clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    this.clearExpiry();
    this.context.onSettled(this);
  }
}
