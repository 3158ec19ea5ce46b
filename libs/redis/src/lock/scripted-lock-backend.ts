import type { RedisClient } from '../connection/redis-connection.factory.js';
import type { LuaScript, ScriptArgument } from '../connection/lua-script.js';
import { LockTimeoutError } from '../errors/lock-timeout.error.js';
import type { AttemptResult, ExtendResult, LockBackend, ReleaseResult } from './lock-backend.interface.js';
import type { LockKeys } from './lock-keys.js';
import type { ShardedLockWakes } from './sharded-lock-wakes.js';
import { driftFor, lockCommandDeadlines } from './with-timeout.js';

/** How long a release that undoes a timed-out attempt may wait (it is fire-and-forget). */
const UNDO_TIMEOUT_MS = 60_000;

/** The keys and arguments of one script call. */
export interface ScriptCall {
  keys: string[];
  args: ScriptArgument[];
}

/**
 * What a backend on one connection runs: its three scripts and how each is called. The acquire script answers
 * `[1, fencingToken]` when granted and `[0, fence]` when busy; extend and release answer 1 when the token owned it.
 */
export interface LockScripts<K extends LockKeys> {
  acquire: LuaScript;
  extend: LuaScript;
  release: LuaScript;
  acquireCall(keys: K, token: string, ttl: number, leaseMs: number): ScriptCall;
  extendCall(keys: K, token: string, ttl: number): ScriptCall;
  releaseCall(keys: K, token: string, leave: boolean): ScriptCall;
}

export interface ScriptedLockBackendOptions {
  driftFactor: number;
  /** The wake-up channels this backend subscribes to once something waits. */
  channels: string[];
  /** Sharded pub/sub (a Cluster): wake-ups per resource instead of `channels`. */
  shardedWakes?: ShardedLockWakes;
}

/**
 * A lock backend on the module's main connection that runs one script per acquire, extend and release, with the
 * locks' command deadlines and wake-ups on its own channels: the single-node locks and the semaphores (whose
 * permits are held by the lock's own handle) differ only in their scripts and keys.
 */
export class ScriptedLockBackend<K extends LockKeys = LockKeys> implements LockBackend {
  readonly mode = 'single' as const;
  private subscribed?: Promise<void>;
  private readonly listeningOn = new WeakSet<RedisClient>();
  private readonly deadlines = lockCommandDeadlines();

  constructor(
    private readonly client: RedisClient,
    private readonly getSubscriber: () => Promise<RedisClient>,
    /** Handles a message of a wake-up channel (anyone may publish anything there; it must never throw). */
    private readonly onWake: (channel: string, message: string) => void,
    private readonly scripts: LockScripts<K>,
    private readonly options: ScriptedLockBackendOptions,
  ) {}

  async attempt(keys: K, token: string, ttl: number, leaseMs: number, timeoutMs: number): Promise<AttemptResult> {
    const start = Date.now();
    const call = this.scripts.acquireCall(keys, token, ttl, leaseMs);
    try {
      const reply = (await this.scripts.acquire.run(this.client, call.keys, call.args, this.deadlines, timeoutMs)) as [
        number,
        number,
      ];
      if (reply[0] === 1) {
        return { granted: true, fencingToken: Number(reply[1]), validUntil: this.validUntil(start, ttl) };
      }
      return { granted: false, failure: 'contention', denied: { fence: Number(reply[1]), sentAt: start } };
    } catch (error) {
      // The script may still run once Redis answers; a release queued behind it on the same connection undoes it.
      if (error instanceof LockTimeoutError) this.release(keys, token, true, UNDO_TIMEOUT_MS).catch(() => undefined);
      return { granted: false, failure: 'unreachable', error };
    }
  }

  async extend(keys: K, token: string, ttl: number, timeoutMs: number): Promise<ExtendResult> {
    const start = Date.now();
    const call = this.scripts.extendCall(keys, token, ttl);
    try {
      const ok = await this.scripts.extend.run(this.client, call.keys, call.args, this.deadlines, timeoutMs);
      if (ok === 1) return { ok: true, validUntil: this.validUntil(start, ttl) };
      return { ok: false, failure: 'taken' };
    } catch (error) {
      return { ok: false, failure: 'unreachable', error };
    }
  }

  async release(keys: K, token: string, leave: boolean, timeoutMs: number): Promise<ReleaseResult> {
    const call = this.scripts.releaseCall(keys, token, leave);
    const released = await this.scripts.release.run(this.client, call.keys, call.args, this.deadlines, timeoutMs);
    return { owned: released === 1 };
  }

  ensureSubscribed(keys?: LockKeys): Promise<void> {
    const { channels, shardedWakes } = this.options;
    if (shardedWakes && keys) return shardedWakes.ensure(keys);
    this.subscribed ??= this.getSubscriber().then(async (subscriber) => {
      // A SUBSCRIBE that fails (Redis failing over) is retried by the next waiter: the listener goes on only once.
      if (!this.listeningOn.has(subscriber)) {
        this.listeningOn.add(subscriber);
        subscriber.on('message', (channel: string, message: string) => {
          if (channels.includes(channel)) this.onWake(channel, message);
        });
      }
      await subscriber.subscribe(...channels);
    });
    const subscribed = this.subscribed;
    subscribed.catch(() => {
      if (this.subscribed === subscribed) this.subscribed = undefined;
    });
    return subscribed;
  }

  doneWaiting(keys: LockKeys): void {
    this.options.shardedWakes?.done(keys);
  }

  async close(): Promise<void> {
    this.deadlines.clear();
    this.options.shardedWakes?.close();
    // The main connection and its subscriber belong to the connections registry, which closes them.
  }

  /** Local time until which a grant made by a call sent at `start` is safely held: start + ttl − drift. */
  private validUntil(start: number, ttl: number): number {
    return start + ttl - driftFor(ttl, this.options.driftFactor);
  }
}
