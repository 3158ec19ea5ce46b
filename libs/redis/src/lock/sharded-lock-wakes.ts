import type { RedisClient } from '../connection/redis-connection.factory.js';
import type { LockKeys } from './lock-keys.js';

/**
 * How long a resource's wake-up channel stays subscribed after its last waiter is done: a resource contended again
 * soon (the usual case) costs no SSUBSCRIBE / SUNSUBSCRIBE pair per wait.
 */
const LINGER_MS = 5_000;

/**
 * The base of a resource's sharded wake-up channels, `<lock key>:wake` (the release script appends `:<instance>`):
 * it carries the lock key's hash tag, so a release script may SPUBLISH on it (a Cluster script only reaches its
 * keys' slot) and the message stays on the lock's master.
 */
export function shardedWakeChannel(keys: LockKeys): string {
  return `${keys.lock}:wake`;
}

interface Subscription {
  /** Waits of this process on the resource (acquisitions between `ensure` and `done`). */
  waits: number;
  subscribed: Promise<void>;
  linger?: NodeJS.Timeout;
}

/**
 * Lock wake-ups over sharded pub/sub (a Cluster with `cluster.shardedPubSub`): unlike the classic mode's one channel
 * per process, a hand-over is published on the waiter's channel of that resource, `<lock key>:wake:<instance>`, so
 * the process subscribes (SSUBSCRIBE, on the lock's master) to that channel of each resource it waits for, and
 * unsubscribes a while after its last wait there ended. After a failover ioredis resubscribes the channels itself;
 * meanwhile waiters poll every `retryDelay`, as they do whenever a wake-up is missed.
 */
export class ShardedLockWakes {
  private readonly subscriptions = new Map<string, Subscription>();
  private listening?: Promise<RedisClient>;

  constructor(
    private readonly getSubscriber: () => Promise<RedisClient>,
    /** This LockService's instance id: the last part of its wake-up channels. */
    private readonly instance: string,
    /** Handles a message of a wake-up channel (anyone may publish anything there; it must never throw). */
    private readonly onWake: (channel: string, message: string) => void,
  ) {}

  /** Starts a wait on the resource of `keys`: subscribes its channel unless already subscribed. */
  ensure(keys: LockKeys): Promise<void> {
    const channel = this.channelOf(keys);
    const current = this.subscriptions.get(channel);
    if (current) {
      current.waits++;
      clearTimeout(current.linger);
      current.linger = undefined;
      return current.subscribed;
    }
    const subscribed = this.subscriber().then(async (subscriber) => {
      await subscriber.ssubscribe(channel);
    });
    const subscription: Subscription = { waits: 1, subscribed };
    this.subscriptions.set(channel, subscription);
    // Not subscribed: the next wait tries again (this one polls).
    subscribed.catch(() => {
      if (this.subscriptions.get(channel) === subscription) this.subscriptions.delete(channel);
    });
    return subscribed;
  }

  /** Ends a wait started with `ensure`: the channel is unsubscribed once no wait used it for a while. */
  done(keys: LockKeys): void {
    const channel = this.channelOf(keys);
    const subscription = this.subscriptions.get(channel);
    if (!subscription || --subscription.waits > 0) return;
    subscription.linger = setTimeout(() => {
      if (this.subscriptions.get(channel) !== subscription || subscription.waits > 0) return;
      this.subscriptions.delete(channel);
      this.listening?.then((subscriber) => subscriber.sunsubscribe(channel)).catch(() => undefined);
    }, LINGER_MS);
    subscription.linger.unref();
  }

  /** Forgets every subscription (the connection itself belongs to the registry, which closes it). */
  close(): void {
    for (const subscription of this.subscriptions.values()) clearTimeout(subscription.linger);
    this.subscriptions.clear();
  }

  private channelOf(keys: LockKeys): string {
    return `${shardedWakeChannel(keys)}:${this.instance}`;
  }

  private subscriber(): Promise<RedisClient> {
    if (!this.listening) {
      const listening = this.getSubscriber().then((subscriber) => {
        subscriber.on('smessage', (channel: string, message: string) => {
          if (this.subscriptions.has(channel)) this.onWake(channel, message);
        });
        return subscriber;
      });
      this.listening = listening;
      listening.catch(() => {
        if (this.listening === listening) this.listening = undefined;
      });
    }
    return this.listening;
  }
}
