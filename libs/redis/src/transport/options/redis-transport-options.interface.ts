import type {
  ConsumerDeserializer,
  ConsumerSerializer,
  ProducerDeserializer,
  ProducerSerializer,
} from '@nestjs/microservices';
import type { RedisConnectionOptions } from '../../connection/redis-connection-options.interface.js';
import type { RedisInstrumentation } from '../../instrumentation/redis-instrumentation.js';
import type { RedisModuleSettings } from '../../keyspace/redis-module-settings.interface.js';
import type { RedisTransportCodec } from '../codec/redis-transport.codec.js';

/** How events travel: fire-and-forget pub/sub (Nest's wire format) or durable Redis Streams with consumer groups. */
export type RedisTransportMode = 'pubsub' | 'streams';

/** Options of the streams mode. All durations are in milliseconds. */
export interface RedisStreamsOptions {
  /**
   * Consumer group: one name per service. Every replica of a service uses the same group, so each event is handled
   * by one replica of each group. Required by a server in streams mode.
   */
  group?: string;
  /**
   * Consumer name inside the group; must be unique per process.
   * @default `<hostname>:<pid>:<random>`
   */
  consumer?: string;
  /**
   * Approximate length each stream is trimmed to on every `emit` (`XADD … MAXLEN ~`). Entries older than that are
   * dropped even if a slow group has not read them yet: size it for the longest outage you want to absorb.
   * @default 100000
   */
  maxLen?: number;
  /**
   * Approximate length of each dead-letter stream.
   * @default 10000
   */
  deadLetterMaxLen?: number;
  /**
   * Handler attempts before an entry is moved to the dead-letter stream (a delivery to a consumer that crashed
   * counts as one).
   * @default 5
   */
  maxAttempts?: number;
  /**
   * Delay before the first retry; doubled at each attempt up to `retryMaxDelay`.
   * @default 100
   */
  retryDelay?: number;
  /** @default 5000 */
  retryMaxDelay?: number;
  /**
   * An entry pending this long without its consumer touching it (the consumer crashed) is reclaimed by another
   * consumer of the group (`XAUTOCLAIM`). Consumers refresh their in-flight entries well before that.
   * @default 30000
   */
  claimIdle?: number;
  /**
   * How often each consumer looks for entries to reclaim.
   * @default 5000
   */
  claimInterval?: number;
  /**
   * How long one `XREADGROUP` blocks; bounds how fast a consumer notices shutdown.
   * @default 1000
   */
  blockTime?: number;
  /**
   * Handlers running at once per pattern, either one number for every pattern or per pattern
   * (`{ 'booking.created': 4, '*': 16 }`, `'*'` being the fallback).
   * @default 16
   */
  concurrency?: number | Record<string, number>;
  /**
   * Where a group created by this server starts reading: `'0'` (every entry still in the stream, so events emitted
   * before the first deploy are not skipped) or `'$'` (only new entries).
   * @default '0'
   */
  startId?: '0' | '$';
  /**
   * Client: makes each `emit` wait, after Redis stored the entry, until `replicas` replicas of the master that
   * stored it acknowledged the write (`WAIT`), and with `fsync` also until the master and those replicas wrote it
   * to their append-only file (`WAITAOF`, Redis 7.2 or later). An emit not acknowledged so within `timeout`
   * rejects with code `E_TRANSPORT_NOT_REPLICATED`: the entry exists on the master and may still be delivered, but a
   * failover could lose it, so the caller must not count it as sent (retry it; handlers should be idempotent).
   * Redis replicates asynchronously: without this, an emit acknowledged by a master that then dies can be lost.
   * `connect()` fails, naming the field, when a master has fewer connected replicas than `replicas`, or when
   * `fsync` is set and a master runs a Redis older than 7.2.
   * @default undefined (emits resolve once the master stored the entry)
   */
  durability?: RedisStreamsDurabilityOptions;
}

/** `streams.durability`: what a streams-mode `emit` waits for before it resolves. */
export interface RedisStreamsDurabilityOptions {
  /** Replicas that must acknowledge each entry (1 to 100). */
  replicas: number;
  /**
   * How long an emit waits for those acknowledgements, in milliseconds.
   * @default 1000
   */
  timeout?: number;
  /**
   * Also wait until the master and `replicas` replicas wrote the entry to their append-only file (`WAITAOF`, Redis
   * 7.2 or later, with `appendonly yes`).
   * @default false
   */
  fsync?: boolean;
}

/**
 * Options of {@link RedisTransportServer} and {@link RedisTransportClient}. Give either connection options (the
 * same shapes `RedisModule.forRoot` accepts: `url`, `redisOptions`, `sentinels` + `name`, `cluster`) or
 * `moduleOptions` to reuse the application's `RedisModule` configuration. All durations are in milliseconds.
 */
export interface RedisTransportOptions extends RedisConnectionOptions {
  /**
   * `'pubsub'` is wire-compatible with Nest's `Transport.REDIS`; `'streams'` makes events durable (requests still
   * use pub/sub).
   * @default 'pubsub'
   */
  mode?: RedisTransportMode;
  /**
   * The application's `RedisModule` settings (inject `REDIS_MODULE_SETTINGS`): the transport then uses that
   * module's connection and `keyPrefix`. Cannot be combined with connection options.
   */
  moduleOptions?: RedisModuleSettings;
  /**
   * With `moduleOptions`: which of the module's connections to use.
   * @default 'default'
   */
  connectionName?: string;
  /**
   * Namespace of the keys the transport writes (streams, dead-letter streams). Taken from `moduleOptions` when not
   * given.
   * @default ''
   */
  keyPrefix?: string;
  /**
   * Prefix of every pub/sub channel. Leave empty to talk to Nest's built-in transport, which uses bare patterns.
   * @default ''
   */
  channelPrefix?: string;
  /**
   * Name reported by `CLIENT LIST`, suffixed with the connection's role.
   * @default 'nest-redis'
   */
  clientName?: string;
  /**
   * Server: whether patterns are subscribed with `PSUBSCRIBE`. `'auto'` does so only for patterns holding a glob
   * character (`booking.*`), so exact channels stay cheap.
   * @default 'auto'
   */
  wildcards?: boolean | 'auto';
  /**
   * Pub/sub over sharded channels (`SSUBSCRIBE` / `SPUBLISH`, Redis ≥ 7): on a Cluster a message then travels only
   * within the shard that owns its channel's slot, instead of being broadcast over the cluster bus to every node.
   * Both sides must set it (a classic `PUBLISH` does not reach an `SSUBSCRIBE`, so Nest's built-in transport cannot
   * talk to it), and handler patterns cannot be globs (sharded pub/sub has no pattern subscriptions: `wildcards`
   * must not be `true`). On a single node it works too, with nothing to gain.
   * @default false (classic pub/sub, wire-compatible with Nest's `Transport.REDIS`)
   */
  shardedPubSub?: boolean;
  /**
   * Client: how long `send()` waits for each reply before failing with `RedisTransportTimeoutError`.
   * @default 5000
   */
  sendTimeout?: number;
  /**
   * Client: how long `emit()` may take, from the call to Redis confirming the write (`XADD` in streams mode,
   * `PUBLISH` in pub/sub mode), connecting included. Past it the emit's observable fails with
   * `RedisTransportTimeoutError` instead of waiting for Redis to come back. While the connection is down the event
   * waits in the client, not in ioredis' offline queue, so an emit that timed out before Redis came back was not
   * written. One that was already on the wire when Redis stopped answering may still have been written (or be
   * written on reconnection): treat a timed-out emit as an unknown outcome, and retry it only into idempotent
   * handlers (`RedisIdempotency`).
   *
   * The default of 10 s rides out a Redis restart or a Sentinel failover (typically a few seconds, with reconnect
   * attempts at most `reconnectMaxDelay` = 5 s apart, so at least one attempt falls inside it) while still failing
   * well before common HTTP gateway timeouts (30–60 s), so a request handler that emits can answer with an error
   * instead of hanging for the whole outage.
   * @default 10000
   */
  emitTimeout?: number;
  /**
   * Largest packet, in UTF-8 bytes once encoded. The client refuses to send a larger one
   * (`RedisTransportPayloadTooLargeError`) and drops a larger reply unparsed (logged; the request then ends by its
   * `sendTimeout`); the server drops a larger incoming one unparsed (logged; dead-lettered in streams mode), so one
   * hostile producer cannot make every consumer parse megabytes of JSON, and answers a request whose reply would be
   * larger with an error naming the size instead of the reply.
   * @default 1048576 (1 MiB)
   */
  maxPayloadBytes?: number;
  /**
   * First reconnect delay; doubled per attempt up to `reconnectMaxDelay`. Reconnection never stops by itself.
   * @default 100
   */
  reconnectDelay?: number;
  /** @default 5000 */
  reconnectMaxDelay?: number;
  /**
   * Server: how long `close()` waits for in-flight handlers before closing the connections anyway.
   * @default 10000
   */
  shutdownTimeout?: number;
  /** Wire codec. The default is JSON, lossless for `Date` and `BigInt` between our own client and server. */
  codec?: RedisTransportCodec;
  /** Nest packet serializer (applied before the codec), as for the built-in transports. */
  serializer?: ProducerSerializer | ConsumerSerializer;
  /** Nest packet deserializer (applied after the codec), as for the built-in transports. */
  deserializer?: ProducerDeserializer | ConsumerDeserializer;
  /**
   * Client: hand a reply that is not JSON to the `deserializer` as the bytes that were published (a `Buffer`, so
   * non-UTF-8 bytes survive) instead of as a string; as the built-in client's option of the same name. A reply that
   * is JSON is parsed first either way. Rejected in server options.
   * @default false
   */
  returnBuffers?: boolean;
  /**
   * The Redis host, as Nest's built-in `Transport.REDIS` takes it (kept for migrating users; it becomes
   * `redisOptions.host`). Cannot be combined with `url`, `sentinels`, `cluster` or `moduleOptions`.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * The Redis port, as the built-in takes it (becomes `redisOptions.port`).
   * @default 6379
   */
  port?: number;
  /** Streams mode settings. */
  streams?: RedisStreamsOptions;
  /**
   * Where the server reports each handler run (`transport.handled`: pattern, mode, duration, outcome) for the
   * metrics entry point, and whose `transportTracer` (installed by `RedisTracingModule`) traces sends, emits and
   * handler runs, on the client and on the server. `RedisTransportServer.fromApp` takes the module's own; pass the
   * app's `RedisInstrumentation` to a client to trace it (`ClientsModule.registerAsync`, see docs/tracing.md).
   */
  instrumentation?: Pick<RedisInstrumentation, 'emit'> & Partial<Pick<RedisInstrumentation, 'transportTracer'>>;
}
