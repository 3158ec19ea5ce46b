import type { RedisClient } from '../connection/redis-connection.factory.js';
import type { AttemptResult, ExtendResult, LockBackend, ReleaseResult } from './lock-backend.interface.js';
import type { LockKeys } from './lock-keys.js';
import { ACQUIRE, EXTEND, RELEASE } from './scripts/lock.scripts.js';
import { driftFor, lockCommandDeadlines, LockTimeoutError } from './with-timeout.js';

export interface SingleNodeLocksOptions {
  driftFactor: number;
  /** Shared wake channel; hand-overs to this instance's waiters come on `<channel>:<instance>`. */
  channel: string;
  /** This LockService's instance id: the prefix of its tokens, naming its own wake channel. */
  instance: string;
}

/** How long a release that undoes a timed-out attempt may wait (it is fire-and-forget). */
const UNDO_TIMEOUT_MS = 60_000;

/**
 * Locks on the module's main connection. Waiters queue in FIFO order; a release hands the lock straight to the
 * first live waiter (set under its token, with its ttl and a fresh fencing token) and publishes "token:fence" on
 * that waiter's instance channel, so the waiter starts without another round trip and the releasing process cannot
 * barge back in ahead of it. Uncontended: one script to acquire, one to release.
 *
 * Validity of a hand-over: the waiter counts it from the moment it sent its last attempt that Redis answered with
 * "busy" and a fence value lower than the hand-over's. That attempt was processed before the hand-over, so the
 * lock cannot expire before that moment + ttl. A hand-over message with a fence not above the last "busy" answer
 * is stale (the hand-over expired before that answer) and is ignored.
 */
export class SingleNodeLocks implements LockBackend {
  readonly mode = 'single' as const;
  private subscribed?: Promise<void>;
  private readonly deadlines = lockCommandDeadlines();
  private readonly ownChannel: string;

  constructor(
    private readonly client: RedisClient,
    private readonly getSubscriber: () => Promise<RedisClient>,
    private readonly onWake: (id: string) => void,
    private readonly options: SingleNodeLocksOptions,
  ) {
    this.ownChannel = `${options.channel}:${options.instance}`;
  }

  async attempt(
    keys: LockKeys,
    token: string,
    ttl: number,
    leaseMs: number,
    timeoutMs: number,
  ): Promise<AttemptResult> {
    const start = Date.now();
    try {
      const reply = (await ACQUIRE.run(
        this.client,
        [keys.lock, keys.fence, keys.queue, keys.leases],
        [token, ttl, leaseMs > 0 ? 1 : 0, leaseMs],
        this.deadlines,
        timeoutMs,
      )) as [number, number];
      if (reply[0] === 1) {
        return {
          granted: true,
          fencingToken: Number(reply[1]),
          validUntil: start + ttl - driftFor(ttl, this.options.driftFactor),
        };
      }
      return { granted: false, failure: 'contention', denied: { fence: Number(reply[1]), sentAt: start } };
    } catch (error) {
      // The script may still run once Redis answers; a release queued behind it on the same connection undoes it.
      if (error instanceof LockTimeoutError) this.release(keys, token, true, UNDO_TIMEOUT_MS).catch(() => undefined);
      return { granted: false, failure: 'unreachable', error };
    }
  }

  async extend(keys: LockKeys, token: string, ttl: number, timeoutMs: number): Promise<ExtendResult> {
    const start = Date.now();
    try {
      const ok = await EXTEND.run(this.client, [keys.lock], [token, ttl], this.deadlines, timeoutMs);
      if (ok === 1) return { ok: true, validUntil: start + ttl - driftFor(ttl, this.options.driftFactor) };
      return { ok: false, failure: 'taken' };
    } catch (error) {
      return { ok: false, failure: 'unreachable', error };
    }
  }

  async release(keys: LockKeys, token: string, leave: boolean, timeoutMs: number): Promise<ReleaseResult> {
    const released = await RELEASE.run(
      this.client,
      [keys.lock, keys.fence, keys.queue, keys.leases],
      [token, this.options.channel, leave ? 1 : 0],
      this.deadlines,
      timeoutMs,
    );
    return { owned: released === 1 };
  }

  ensureSubscribed(): Promise<void> {
    this.subscribed ??= this.getSubscriber().then(async (subscriber) => {
      subscriber.on('message', (channel: string, message: string) => {
        if (channel === this.ownChannel || channel === this.options.channel) this.onWake(message);
      });
      // The shared channel only carries hand-overs published by older versions (tokens without an instance).
      await subscriber.subscribe(this.ownChannel, this.options.channel);
    });
    this.subscribed.catch(() => (this.subscribed = undefined));
    return this.subscribed;
  }

  async close(): Promise<void> {
    this.deadlines.clear();
    // The main connection and its subscriber belong to the connections registry, which closes them.
  }
}
