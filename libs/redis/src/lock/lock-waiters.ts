import type { Logger } from '@nestjs/common';
import { errorText } from '../utils/error-text.js';
import { RateLimitedLog } from '../utils/rate-limited-log.js';
import { startSleep } from '../utils/sleep.js';

/** Longest wake-up message accepted: a token (instance + UUID) and a fence; anything longer is junk. */
const MAX_WAKE_MESSAGE_LENGTH = 256;
/** A lock token: `<instance>.<uuid>` (older versions: a bare UUID). */
const TOKEN = /^[A-Za-z0-9._-]{1,200}$/;
const FENCE = /^[0-9]{1,16}$/;

/** A wake-up message, as the lock scripts publish it. */
export interface WakeMessage {
  /** The waiter's token. */
  token: string;
  /** Single node: the fencing token of the hand-over (the lock is now the waiter's). Redlock: absent. */
  fence?: number;
}

/**
 * Parses a wake-up message: `<token>` (Redlock release: retry now) or `<token>:<fence>` (single-node hand-over).
 * Anyone who can `PUBLISH` on the app's Redis can send anything here.
 *
 * @returns the message, or `undefined` for anything else (not a string, too long, bad token or fence)
 */
export function parseWakeMessage(message: unknown): WakeMessage | undefined {
  if (typeof message !== 'string' || message.length > MAX_WAKE_MESSAGE_LENGTH) return undefined;
  const colon = message.indexOf(':');
  const token = colon < 0 ? message : message.slice(0, colon);
  if (!TOKEN.test(token)) return undefined;
  if (colon < 0) return { token };
  const fenceText = message.slice(colon + 1);
  if (!FENCE.test(fenceText)) return undefined;
  const fence = Number(fenceText);
  return Number.isSafeInteger(fence) && fence > 0 ? { token, fence } : undefined;
}

/** One waiting `acquire`: woken by a hand-over (single node, with its fence) or a release (Redlock). */
export class LockWaiter {
  /** Fence of the latest hand-over announced to this waiter (single node). */
  handoff?: number;
  private pending = false;
  private resolve?: () => void;

  notify(fence?: number): void {
    if (fence !== undefined) this.handoff = Math.max(this.handoff ?? 0, fence);
    if (this.resolve) {
      const resolve = this.resolve;
      this.resolve = undefined;
      resolve();
    } else {
      this.pending = true;
    }
  }

  /**
   * Resolves on the next notification (or one that came since the last wait), after `ms`, or on `signal`: `true`
   * when woken (a notification or the signal), `false` when `ms` ran out.
   */
  wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    const sleep = startSleep(ms, { signal, onEnd: () => (this.resolve = undefined) });
    this.resolve = sleep.wake;
    return sleep.done;
  }
}

/**
 * The waiters of one LockService, by token, and the handler of its wake-up channels. {@link onMessage} never
 * throws: a message that is not a wake-up is counted, logged (rate-limited) and dropped.
 */
export class LockWaiters {
  private readonly byToken = new Map<string, Set<LockWaiter>>();
  private readonly junk: RateLimitedLog;
  private rejected = 0;

  /**
   * @param logger where dropped messages are logged (rate-limited)
   * @param onRejected counts each dropped message (the lock service reports it as `input.rejected`, source
   *   `lock.wakeup`)
   */
  constructor(
    logger: Pick<Logger, 'warn'>,
    private readonly onRejected: () => void = () => undefined,
  ) {
    this.junk = new RateLimitedLog(logger);
  }

  /** Messages on the wake-up channels that were not wake-ups (dropped). */
  get malformed(): number {
    return this.rejected;
  }

  /** Registers a waiter for `token`; pair with {@link remove}. */
  add(token: string): LockWaiter {
    const waiter = new LockWaiter();
    let set = this.byToken.get(token);
    if (!set) {
      set = new Set();
      this.byToken.set(token, set);
    }
    set.add(waiter);
    return waiter;
  }

  remove(token: string, waiter: LockWaiter): void {
    const set = this.byToken.get(token);
    set?.delete(waiter);
    if (set?.size === 0) this.byToken.delete(token);
  }

  /** Handles one message of a wake-up channel: wakes the waiters of its token, or drops it. */
  readonly onMessage = (channel: string, message: unknown): void => {
    try {
      const wake = parseWakeMessage(message);
      if (!wake) {
        this.rejected++;
        this.onRejected();
        const size = typeof message === 'string' ? `${message.length} characters` : typeof message;
        this.junk.warn(`Dropped a malformed lock wake-up on ${channel} (${size}).`);
        return;
      }
      this.byToken.get(wake.token)?.forEach((waiter) => waiter.notify(wake.fence));
    } catch (error) {
      // Nothing above should throw; if it does, a subscriber's event handler is no place to let it escape.
      this.rejected++;
      this.onRejected();
      this.junk.warn(`Dropped a lock wake-up on ${channel}: ${errorText(error)}.`);
    }
  };
}
