import type {
  ConsumerDeserializer,
  ConsumerSerializer,
  ProducerDeserializer,
  ProducerSerializer,
} from '@nestjs/microservices';
import { RedisOptionsError } from '../../errors/redis-options.error.js';
import type { RedisInstrumentation } from '../../instrumentation/redis-instrumentation.js';
import type { ResolvedRedisConnection } from '../../connection/resolved-redis-connection.interface.js';
import {
  fail,
  isPlainObject,
  optionalDuration,
  optionalInteger,
  optionalObject,
  optionalString,
  rejectUnknownKeys,
} from '../../options/option-checks.js';
import { CONNECTION_OPTION_KEYS, resolveConnectionOptions } from '../../options/resolve-connection-options.js';
import { DEFAULT_CLIENT_NAME } from '../../options/resolve-core-options.js';
import { DEFAULT_REDIS_CONNECTION } from '../../redis.constants.js';
import { JsonTransportCodec, type RedisTransportCodec } from '../codec/redis-transport.codec.js';
import type { RedisTransportMode } from './redis-transport-options.interface.js';
import { translateBuiltInOptions } from './built-in-redis-options.js';
import { BUILT_IN_OPTION_REPLACED, RETURN_BUFFERS_ON_SERVER } from '../redis-transport.messages.js';
import { resolveStreams, type ResolvedStreamsOptions } from './resolve-streams-options.js';
import { NAME_PATTERN, TRANSPORT_DEFAULTS } from './transport-defaults.js';

const PREFIX_PATTERN = /^[A-Za-z0-9:_\-.{}]*$/;

const TRANSPORT_OPTION_KEYS = [
  'mode',
  'moduleOptions',
  'connectionName',
  'keyPrefix',
  'channelPrefix',
  'clientName',
  'wildcards',
  'shardedPubSub',
  'sendTimeout',
  'emitTimeout',
  'maxPayloadBytes',
  'reconnectDelay',
  'reconnectMaxDelay',
  'shutdownTimeout',
  'codec',
  'serializer',
  'deserializer',
  'returnBuffers',
  'streams',
  'instrumentation',
] as const;

/** Transport options after validation: one connection, every default filled in. */
export interface ResolvedTransportOptions {
  mode: RedisTransportMode;
  connection: ResolvedRedisConnection;
  keyPrefix: string;
  channelPrefix: string;
  wildcards: boolean | 'auto';
  /** SSUBSCRIBE / SPUBLISH instead of SUBSCRIBE / PUBLISH. */
  shardedPubSub: boolean;
  sendTimeout: number;
  emitTimeout: number;
  maxPayloadBytes: number;
  reconnectDelay: number;
  reconnectMaxDelay: number;
  shutdownTimeout: number;
  codec: RedisTransportCodec;
  serializer?: ProducerSerializer | ConsumerSerializer;
  deserializer?: ProducerDeserializer | ConsumerDeserializer;
  /** Client: replies reach the deserializer as the published bytes (a `Buffer`) when they are not JSON. */
  returnBuffers: boolean;
  streams: ResolvedStreamsOptions;
  instrumentation?: Pick<RedisInstrumentation, 'emit'> & Partial<Pick<RedisInstrumentation, 'transportTracer'>>;
}

function prefix(value: unknown, field: string): string | undefined {
  const text = optionalString(value, field);
  if (text !== undefined && (!PREFIX_PATTERN.test(text) || text.length > 128)) {
    fail(field, 'at most 128 characters from A-Z a-z 0-9 : _ - . { } (no glob characters)');
  }
  return text;
}

function withMethods(value: unknown, field: string, methods: string[]): void {
  if (value === undefined) return;
  const ok =
    typeof value === 'object' &&
    value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
  if (!ok) fail(field, `an object with ${methods.map((m) => `${m}()`).join(' and ')}`, value);
}

function resolveConnection(options: Record<string, unknown>, clientName: string): ResolvedRedisConnection {
  const moduleOptions = options.moduleOptions as { connections?: unknown } | undefined;
  const connectionName = optionalString(options.connectionName, 'connectionName', { nonEmpty: true });
  if (moduleOptions === undefined) {
    if (connectionName !== undefined) fail('connectionName', 'to be used together with "moduleOptions"');
    return resolveConnectionOptions(options, '', 'transport', clientName, TRANSPORT_OPTION_KEYS);
  }
  const conflicting = CONNECTION_OPTION_KEYS.filter((key) => options[key] !== undefined);
  if (conflicting.length > 0) {
    throw new RedisOptionsError(
      `Invalid RedisTransport option "moduleOptions": it cannot be combined with ${conflicting.map((k) => `"${k}"`).join(', ')}.`,
      'moduleOptions',
    );
  }
  rejectUnknownKeys(options, TRANSPORT_OPTION_KEYS, '');
  if (typeof moduleOptions !== 'object' || moduleOptions === null || !(moduleOptions.connections instanceof Map)) {
    return fail('moduleOptions', 'the RedisModule settings (inject REDIS_MODULE_SETTINGS)', moduleOptions);
  }
  const name = connectionName ?? DEFAULT_REDIS_CONNECTION;
  const connection = (moduleOptions.connections as Map<string, ResolvedRedisConnection>).get(name);
  if (!connection) return fail('connectionName', `a connection configured in the RedisModule (got "${name}")`);
  return connection;
}

/**
 * Validates the options of a transport server or client and fills in the defaults.
 *
 * @param raw the options given to the constructor (or to `ClientsModule.register`)
 * @param side `'server'` requires `streams.group` in streams mode
 * @throws RedisOptionsError naming the offending field
 */
export function resolveTransportOptions(raw: unknown, side: 'server' | 'client'): ResolvedTransportOptions {
  const given = raw === undefined ? {} : optionalObject(raw, '(options)');
  if (!given) return fail('(options)', 'an options object', raw);
  const options = translateBuiltInOptions(given, [...TRANSPORT_OPTION_KEYS, ...CONNECTION_OPTION_KEYS]);
  const mode = options.mode ?? 'pubsub';
  if (mode !== 'pubsub' && mode !== 'streams') fail('mode', "'pubsub' or 'streams'", mode);
  const clientName = optionalString(options.clientName, 'clientName') ?? DEFAULT_CLIENT_NAME;
  if (!NAME_PATTERN.test(clientName)) fail('clientName', 'letters, digits and : _ - . only');
  // The module's `cluster.shardedPubSub` is about its own channels; the transport's switch is `shardedPubSub`.
  if (isPlainObject(options.cluster) && options.cluster.shardedPubSub !== undefined) {
    fail('cluster.shardedPubSub', 'absent (the transport takes the top-level "shardedPubSub")');
  }
  const connection = resolveConnection(options, clientName);
  const modulePrefix = (options.moduleOptions as { keyPrefix?: string } | undefined)?.keyPrefix;
  const wildcards = options.wildcards ?? 'auto';
  if (wildcards !== 'auto' && typeof wildcards !== 'boolean') fail('wildcards', "true, false or 'auto'", wildcards);
  const shardedPubSub = options.shardedPubSub ?? false;
  if (typeof shardedPubSub !== 'boolean') fail('shardedPubSub', 'true or false', shardedPubSub);
  if (shardedPubSub && wildcards === true) {
    fail('shardedPubSub', 'not combined with wildcards: true (sharded pub/sub has no pattern subscriptions)');
  }
  withMethods(options.codec, 'codec', ['encode', 'decode']);
  withMethods(options.serializer, 'serializer', ['serialize']);
  withMethods(options.deserializer, 'deserializer', ['deserialize']);
  withMethods(options.instrumentation, 'instrumentation', ['emit']);
  const returnBuffers = options.returnBuffers ?? false;
  if (typeof returnBuffers !== 'boolean') fail('returnBuffers', 'true or false', returnBuffers);
  if (side === 'server' && returnBuffers) {
    throw new RedisOptionsError(BUILT_IN_OPTION_REPLACED('returnBuffers', RETURN_BUFFERS_ON_SERVER), 'returnBuffers');
  }
  const reconnectDelay =
    optionalDuration(options.reconnectDelay, 'reconnectDelay', { min: 1, max: 600_000 }) ??
    TRANSPORT_DEFAULTS.reconnectDelay;
  const reconnectMaxDelay =
    optionalDuration(options.reconnectMaxDelay, 'reconnectMaxDelay', { min: 1, max: 600_000 }) ??
    TRANSPORT_DEFAULTS.reconnectMaxDelay;
  if (reconnectMaxDelay < reconnectDelay) fail('reconnectMaxDelay', 'at least reconnectDelay', reconnectMaxDelay);
  const streams = resolveStreams(options.streams);
  if (side === 'server' && mode === 'streams' && streams.group === undefined) {
    fail('streams.group', 'the consumer group name (required by a server in streams mode)');
  }
  return {
    mode,
    connection,
    keyPrefix: prefix(options.keyPrefix, 'keyPrefix') ?? modulePrefix ?? '',
    channelPrefix: prefix(options.channelPrefix, 'channelPrefix') ?? '',
    wildcards,
    shardedPubSub,
    sendTimeout:
      optionalDuration(options.sendTimeout, 'sendTimeout', { min: 1, max: 86_400_000 }) ??
      TRANSPORT_DEFAULTS.sendTimeout,
    emitTimeout:
      optionalDuration(options.emitTimeout, 'emitTimeout', { min: 1, max: 86_400_000 }) ??
      TRANSPORT_DEFAULTS.emitTimeout,
    maxPayloadBytes:
      optionalInteger(options.maxPayloadBytes, 'maxPayloadBytes', { min: 1_024, max: 512 * 1_048_576 }) ??
      TRANSPORT_DEFAULTS.maxPayloadBytes,
    reconnectDelay,
    reconnectMaxDelay,
    shutdownTimeout:
      optionalDuration(options.shutdownTimeout, 'shutdownTimeout', { min: 0, max: 3_600_000 }) ??
      TRANSPORT_DEFAULTS.shutdownTimeout,
    codec: (options.codec as RedisTransportCodec | undefined) ?? new JsonTransportCodec(),
    serializer: options.serializer as ResolvedTransportOptions['serializer'],
    deserializer: options.deserializer as ResolvedTransportOptions['deserializer'],
    returnBuffers,
    streams,
    instrumentation: options.instrumentation as ResolvedTransportOptions['instrumentation'],
  };
}
