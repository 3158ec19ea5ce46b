import type {
  ConsumerDeserializer,
  ConsumerSerializer,
  ProducerDeserializer,
  ProducerSerializer,
} from '@nestjs/microservices';
import type { RedisConnectionOptions } from '../interfaces/redis-connection-options.interface.js';
import type { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import type { ResolvedRedisOptions } from '../interfaces/resolved-redis-options.interface.js';
import type { RedisTransportCodec } from './codec/redis-transport.codec.js';

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
   * The resolved `RedisModule` options (`app.get(REDIS_RESOLVED_OPTIONS)`): the transport then uses that module's
   * connection and `keyPrefix`. Cannot be combined with connection options.
   */
  moduleOptions?: ResolvedRedisOptions;
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
   * (`RedisTransportPayloadTooLargeError`); the server drops a larger incoming one unparsed (logged; dead-lettered in
   * streams mode), so one hostile producer cannot make every consumer parse megabytes of JSON.
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
  /** Streams mode settings. */
  streams?: RedisStreamsOptions;
  /**
   * Where the server reports each handler run (`transport.handled`: pattern, mode, duration, outcome) for the
   * metrics entry point. `RedisTransportServer.fromApp` takes the module's own.
   */
  instrumentation?: Pick<RedisInstrumentation, 'emit'>;
}
