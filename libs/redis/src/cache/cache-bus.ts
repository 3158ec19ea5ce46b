import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { PubSubCommands } from '../connection/pubsub-commands.js';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import { parseJsonObject, type RejectedInputReporter } from '../utils/rejected-input.reporter.js';
import type { LruCache } from './l1/lru-cache.js';
import { errorText } from '../utils/error-text.js';
import { startSleep } from '../utils/sleep.js';
import { CACHE_BUS_NOT_SUBSCRIBED, CACHE_L1_DROPPED } from './cache.messages.js';

/** How long after a failed (re)subscription the bus tries again. */
const RESUBSCRIBE_RETRY_MS = 1_000;

/** A message on the cache channel: entry keys that changed, or `all` (cleared). */
interface BusMessage {
  /** Origin instance id. */
  o: string;
  /** Entry keys written or evicted. */
  k?: string[];
  /** Everything was cleared. */
  a?: 1;
}

/**
 * Reads a message of the cache channel, which anyone who can PUBLISH on the app's Redis can write: a valid message
 * or the reason it is not one (what is wrong, never the payload).
 */
function parseBusMessage(raw: string): BusMessage | string {
  const parsed = parseJsonObject(raw);
  if (typeof parsed === 'string') return parsed;
  const { o, k, a } = parsed;
  if (typeof o !== 'string') return '"o" (origin) is not a string';
  if (a === 1) return { o, a: 1 };
  if (!Array.isArray(k)) return '"k" (entry keys) is not an array';
  if (!k.every((entryKey): entryKey is string => typeof entryKey === 'string')) return '"k" holds a non-string';
  return { o, k };
}

/**
 * The cache's pub/sub side, on the module's subscriber connection (classic pub/sub, or sharded on a Cluster: the
 * channel then lives on the master owning its slot, and messages do not cross the cluster bus):
 * - L1 invalidation: every write and eviction publishes the entry keys; other instances drop their L1 copies.
 *   While the subscription is down L1 is bypassed and emptied, and it is emptied again when the subscription is
 *   back (messages may have been missed), so an L1 read is never older than the last message delivered.
 * - Cross-replica single-flight: a replica waiting for another's load is woken by the "value landed" message of
 *   that key (no polling); `wait()` is bounded by a timeout.
 */
export class CacheBus {
  /** This instance's id: its own messages do not drop its L1 (it already updated it). */
  readonly id = randomBytes(8).toString('hex');
  private readonly logger = new Logger('RedisCache');
  private readonly waiters = new Map<string, Set<() => void>>();
  private subscribed = false;
  private closed = false;
  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.channel) return;
    // This runs inside ioredis' socket callback: anything thrown here would be an uncaught exception.
    try {
      this.handle(message);
    } catch (error) {
      this.rejected?.reject('cache.bus', `channel "${channel}"`, `handling failed (${(error as Error).name})`);
    }
  };
  private retry: NodeJS.Timeout | undefined;
  /** A (re)subscription failed and was logged; cleared by the next success. */
  private failing = false;
  private readonly onDown = (): void => {
    this.setSubscribed(false, 'subscription lost');
    // Sharded: `-node` may be any master's connection, and when it is not ours no restore event follows. Whether
    // ours still holds the channel is known from a new SSUBSCRIBE (which fails while its connection is down).
    if (this.pubSub.sharded) this.resubscribe();
  };
  /** After a reconnect: L1 is only trusted again once the subscription is confirmed. */
  private readonly onRestored = (): void => {
    if (!this.subscribed) this.resubscribe();
  };

  constructor(
    private readonly subscriber: RedisClient,
    private readonly pubSub: PubSubCommands,
    private readonly channel: string,
    private readonly l1: LruCache | undefined,
    private readonly l1KeyOf: (entryKey: string) => string,
    private readonly rejected?: RejectedInputReporter,
  ) {}

  /** Whether L1 may be read: only while the invalidation subscription is live. */
  get live(): boolean {
    return this.subscribed;
  }

  async start(): Promise<void> {
    this.subscriber.on(this.pubSub.messageEvent, this.onMessage);
    for (const event of this.pubSub.lostEvents) this.subscriber.on(event, this.onDown);
    for (const event of this.pubSub.restoredEvents) this.subscriber.on(event, this.onRestored);
    await this.subscribe();
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.subscriber.off(this.pubSub.messageEvent, this.onMessage);
    for (const event of this.pubSub.lostEvents) this.subscriber.off(event, this.onDown);
    for (const event of this.pubSub.restoredEvents) this.subscriber.off(event, this.onRestored);
    for (const wake of [...this.waiters.values()].flatMap((set) => [...set])) wake();
    this.waiters.clear();
    if (this.subscriber.status === 'ready') {
      await this.pubSub.unsubscribe(this.subscriber, [this.channel]).catch(() => undefined);
    }
  }

  /** The message announcing that these entry keys changed. */
  changed(entryKeys: string[]): string {
    return JSON.stringify({ o: this.id, k: entryKeys } satisfies BusMessage);
  }

  /** The message announcing a clear. */
  cleared(): string {
    return JSON.stringify({ o: this.id, a: 1 } satisfies BusMessage);
  }

  /**
   * Starts waiting for `entryKey` to change. Register before checking Redis, so a message published in between is
   * not missed. Resolves `true` when woken, `false` after `timeoutMs` (or immediately when the bus is down).
   */
  wait(entryKey: string, timeoutMs: number): { done: Promise<boolean>; cancel: () => void } {
    if (!this.subscribed || this.closed) return { done: Promise.resolve(false), cancel: () => undefined };
    let set = this.waiters.get(entryKey);
    if (!set) {
      set = new Set();
      this.waiters.set(entryKey, set);
    }
    const waiters = set;
    const sleep = startSleep(timeoutMs, {
      onEnd: () => {
        waiters.delete(sleep.wake);
        if (waiters.size === 0 && this.waiters.get(entryKey) === waiters) this.waiters.delete(entryKey);
      },
    });
    waiters.add(sleep.wake);
    // Cancelling ends the sleep as a wake-up would; the caller no longer awaits `done`.
    return { done: sleep.done, cancel: sleep.wake };
  }

  /** Applies one message; a malformed one is counted, logged (rate-limited) and dropped. */
  private handle(raw: string): void {
    const message = parseBusMessage(raw);
    if (typeof message === 'string') {
      this.rejected?.reject('cache.bus', `channel "${this.channel}"`, message);
      return;
    }
    if (message.a === 1) {
      if (message.o !== this.id) this.l1?.clear();
      return;
    }
    for (const entryKey of message.k ?? []) {
      if (message.o !== this.id) this.l1?.delete(this.l1KeyOf(entryKey));
      const set = this.waiters.get(entryKey);
      if (set) for (const wake of [...set]) wake();
    }
  }

  /** Subscribes again unless a retry is already scheduled. */
  private resubscribe(): void {
    if (!this.closed && this.retry === undefined) void this.subscribe();
  }

  /**
   * (Re)subscribes: L1 is trusted once Redis confirmed it. A failure (connection down, a refusal by the ACL) is
   * logged once until a success, and retried every second.
   */
  private subscribe(): Promise<void> {
    return this.pubSub.subscribe(this.subscriber, [this.channel]).then(
      () => {
        this.failing = false;
        this.setSubscribed(true, 'subscription confirmed');
      },
      (error: unknown) => {
        this.setSubscribed(false, 'subscription failed');
        if (this.closed) return;
        if (!this.failing) this.logger.warn(CACHE_BUS_NOT_SUBSCRIBED(this.pubSub.sharded, errorText(error)));
        this.failing = true;
        this.retry = setTimeout(() => {
          this.retry = undefined;
          if (!this.subscribed) this.resubscribe();
        }, RESUBSCRIBE_RETRY_MS);
        this.retry.unref();
      },
    );
  }

  private setSubscribed(up: boolean, reason: string): void {
    if (this.closed) return;
    if (up && this.subscriber.status !== 'ready') return;
    const changed = this.subscribed !== up;
    this.subscribed = up;
    if (this.l1 && this.l1.size > 0) {
      this.l1.clear();
      this.logger.debug(CACHE_L1_DROPPED(reason));
    }
    if (changed && !up) for (const wake of [...this.waiters.values()].flatMap((set) => [...set])) wake();
  }
}
