import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-connection.factory.js';

/**
 * Internal: the pub/sub commands of one side, classic (`SUBSCRIBE` / `PUBLISH`, a message reaches every node of a
 * Cluster) or sharded (`SSUBSCRIBE` / `SPUBLISH`, Redis ≥ 7: a message stays within the shard owning its channel's
 * slot). Chosen once: by the transport's `shardedPubSub` option, and for the library's own channels (cache
 * invalidations, lock wake-ups) by the connection's `cluster.shardedPubSub`.
 */
export interface PubSubCommands {
  readonly sharded: boolean;
  /** The ioredis event delivering messages of subscribed channels, as strings. */
  readonly messageEvent: 'message' | 'smessage';
  /** The same, as Buffers. */
  readonly messageBufferEvent: 'messageBuffer' | 'smessageBuffer';
  /**
   * Subscriber events after which a subscription may be gone. Sharded subscriptions live on one connection per
   * master (ioredis' `shardedSubscribers`), whose loss the Cluster client reports as `-node`, not `close`.
   */
  readonly lostEvents: readonly string[];
  /** Subscriber events after which subscriptions are back (ioredis resubscribed them). */
  readonly restoredEvents: readonly string[];
  subscribe(client: RedisClient, channels: string[]): Promise<unknown>;
  unsubscribe(client: RedisClient, channels: string[]): Promise<unknown>;
  publish(client: RedisClient, channel: string, message: string): Promise<unknown>;
}

const CLASSIC: PubSubCommands = {
  sharded: false,
  messageEvent: 'message',
  messageBufferEvent: 'messageBuffer',
  lostEvents: ['close', 'end'],
  restoredEvents: ['ready'],
  subscribe: (client, channels) => client.subscribe(...channels),
  unsubscribe: (client, channels) => client.unsubscribe(...channels),
  publish: (client, channel, message) => client.publish(channel, message),
};

/** One command per channel: on a Cluster the channels of one SSUBSCRIBE must share a slot. */
const SHARDED: PubSubCommands = {
  sharded: true,
  messageEvent: 'smessage',
  messageBufferEvent: 'smessageBuffer',
  lostEvents: ['close', 'end', '-node'],
  restoredEvents: ['ready', 'subscribersReady'],
  subscribe: (client, channels) => Promise.all(channels.map((channel) => client.ssubscribe(channel))),
  unsubscribe: (client, channels) => Promise.all(channels.map((channel) => client.sunsubscribe(channel))),
  publish: (client, channel, message) => client.spublish(channel, message),
};

/** The classic or the sharded commands. */
export function pubSubCommands(sharded: boolean): PubSubCommands {
  return sharded ? SHARDED : CLASSIC;
}

const shardedScripts = new WeakMap<LuaScript, LuaScript>();

/**
 * The same script with its `PUBLISH` calls made `SPUBLISH` (one copy per script). In a Cluster script the channel
 * must hash to the slot of the script's keys: give it their hash tag.
 */
export function withShardedPublish(script: LuaScript): LuaScript {
  let sharded = shardedScripts.get(script);
  if (sharded === undefined) {
    const source = script.source.replaceAll("redis.call('PUBLISH'", "redis.call('SPUBLISH'");
    sharded = new LuaScript(`${script.name}-sharded`, source);
    shardedScripts.set(script, sharded);
  }
  return sharded;
}

/**
 * Whether the server has sharded pub/sub (Redis ≥ 7), from `INFO server`; `undefined` when it cannot tell (INFO
 * refused by the ACL, not connected).
 */
export async function hasShardedPubSub(client: RedisClient): Promise<boolean | undefined> {
  try {
    const info = await client.info('server');
    const major = /^redis_version:(\d+)\./m.exec(info)?.[1];
    return major === undefined ? undefined : Number(major) >= 7;
  } catch {
    return undefined;
  }
}
