import { withShardedPublish } from '../connection/pubsub-commands.js';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import type { LockKeys } from './lock-keys.js';
import { ACQUIRE, EXTEND, RELEASE } from './scripts/lock.scripts.js';
import { type LockScripts, ScriptedLockBackend } from './scripted-lock-backend.js';
import { ShardedLockWakes, shardedWakeChannel } from './sharded-lock-wakes.js';

export interface SingleNodeLocksOptions {
  driftFactor: number;
  /** Shared wake channel; hand-overs to this instance's waiters come on `<channel>:<instance>`. */
  channel: string;
  /** This LockService's instance id: the prefix of its tokens, naming its own wake channel. */
  instance: string;
  /**
   * Sharded pub/sub (a Cluster, `cluster.shardedPubSub`): the release script SPUBLISHes on the resource's channel
   * (`<lock key>:wake:<instance>`, in the lock key's slot), see `ShardedLockWakes`.
   */
  sharded: boolean;
}

/**
 * The lock scripts and their calls. The release publishes hand-overs on the instance channels of the shared channel,
 * or (sharded) with SPUBLISH on those of the resource's channel.
 */
function lockScripts(channel: string, sharded: boolean): LockScripts<LockKeys> {
  return {
    acquire: ACQUIRE,
    extend: EXTEND,
    release: sharded ? withShardedPublish(RELEASE) : RELEASE,
    acquireCall: (keys, token, ttl, leaseMs) => ({
      keys: [keys.lock, keys.fence, keys.queue, keys.leases],
      args: [token, ttl, leaseMs > 0 ? 1 : 0, leaseMs],
    }),
    extendCall: (keys, token, ttl) => ({ keys: [keys.lock], args: [token, ttl] }),
    releaseCall: (keys, token, leave) => ({
      keys: [keys.lock, keys.fence, keys.queue, keys.leases],
      args: [token, sharded ? shardedWakeChannel(keys) : channel, leave ? 1 : 0],
    }),
  };
}

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
export class SingleNodeLocks extends ScriptedLockBackend<LockKeys> {
  constructor(
    client: RedisClient,
    getSubscriber: () => Promise<RedisClient>,
    /** Handles a message of a wake-up channel (anyone may publish anything there; it must never throw). */
    onWake: (channel: string, message: string) => void,
    options: SingleNodeLocksOptions,
  ) {
    // The shared channel only carries hand-overs published by older versions (tokens without an instance).
    super(client, getSubscriber, onWake, lockScripts(options.channel, options.sharded), {
      driftFactor: options.driftFactor,
      channels: [`${options.channel}:${options.instance}`, options.channel],
      ...(options.sharded && { shardedWakes: new ShardedLockWakes(getSubscriber, options.instance, onWake) }),
    });
  }
}
