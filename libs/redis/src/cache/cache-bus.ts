import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import type { LruCache } from './l1/lru-cache.js';
import { CACHE_L1_DROPPED } from './cache.messages.js';

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
 * The cache's pub/sub side, on the module's subscriber connection:
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
    if (channel === this.channel) this.handle(message);
  };
  private readonly onDown = (): void => this.setSubscribed(false, 'subscription lost');
  /** After a reconnect: L1 is only trusted again once the subscription is confirmed. */
  private readonly onReady = (): void => {
    this.subscriber.subscribe(this.channel).then(
      () => this.setSubscribed(true, 'subscription restored'),
      () => this.setSubscribed(false, 'subscription failed'),
    );
  };

  constructor(
    private readonly subscriber: RedisClient,
    private readonly channel: string,
    private readonly l1: LruCache | undefined,
    private readonly l1KeyOf: (entryKey: string) => string,
  ) {}

  /** Whether L1 may be read: only while the invalidation subscription is live. */
  get live(): boolean {
    return this.subscribed;
  }

  async start(): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('close', this.onDown);
    this.subscriber.on('end', this.onDown);
    this.subscriber.on('ready', this.onReady);
    try {
      await this.subscriber.subscribe(this.channel);
      this.subscribed = this.subscriber.status === 'ready';
    } catch {
      this.subscribed = false;
    }
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('close', this.onDown);
    this.subscriber.off('end', this.onDown);
    this.subscriber.off('ready', this.onReady);
    for (const wake of [...this.waiters.values()].flatMap((set) => [...set])) wake();
    this.waiters.clear();
    if (this.subscriber.status === 'ready') await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
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
    let wake!: () => void;
    let timer: NodeJS.Timeout | undefined;
    const cancel = () => {
      clearTimeout(timer);
      waiters.delete(wake);
      if (waiters.size === 0 && this.waiters.get(entryKey) === waiters) this.waiters.delete(entryKey);
    };
    const done = new Promise<boolean>((resolve) => {
      wake = () => {
        cancel();
        resolve(true);
      };
      timer = setTimeout(() => {
        cancel();
        resolve(false);
      }, timeoutMs);
    });
    waiters.add(wake);
    return { done, cancel };
  }

  private handle(raw: string): void {
    let message: BusMessage;
    try {
      message = JSON.parse(raw) as BusMessage;
    } catch {
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
