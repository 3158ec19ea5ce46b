import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type {
  ConsumerDeserializer,
  ConsumerSerializer,
  ProducerDeserializer,
  ProducerSerializer,
} from '@nestjs/microservices';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import type { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import type { ResolvedRedisConnection } from '../interfaces/resolved-redis-options.interface.js';
import { fail, isPlainObject, optionalObject, optionalString, rejectUnknownKeys } from '../options/option-checks.js';
import { CONNECTION_OPTION_KEYS, resolveConnectionOptions } from '../options/resolve-connection-options.js';
import { DEFAULT_CLIENT_NAME } from '../options/resolve-redis-options.js';
import { DEFAULT_REDIS_CONNECTION } from '../redis.constants.js';
import { JsonTransportCodec, type RedisTransportCodec } from './codec/redis-transport.codec.js';
import type { RedisTransportMode } from './redis-transport-options.interface.js';

const TRANSPORT_OPTION_KEYS = [
  'mode',
  'moduleOptions',
  'connectionName',
  'keyPrefix',
  'channelPrefix',
  'clientName',
  'wildcards',
  'sendTimeout',
  'emitTimeout',
  'maxPayloadBytes',
  'reconnectDelay',
  'reconnectMaxDelay',
  'shutdownTimeout',
  'codec',
  'serializer',
  'deserializer',
  'streams',
  'instrumentation',
] as const;

const STREAMS_OPTION_KEYS = [
  'group',
  'consumer',
  'maxLen',
  'deadLetterMaxLen',
  'maxAttempts',
  'retryDelay',
  'retryMaxDelay',
  'claimIdle',
  'claimInterval',
  'blockTime',
  'concurrency',
  'startId',
] as const;

const PREFIX_PATTERN = /^[A-Za-z0-9:_\-.{}]*$/;
const NAME_PATTERN = /^[A-Za-z0-9:_\-.]+$/;

/** Defaults of the transport, in one place. */
export const TRANSPORT_DEFAULTS = {
  sendTimeout: 5_000,
  emitTimeout: 10_000,
  maxPayloadBytes: 1_048_576,
  reconnectDelay: 100,
  reconnectMaxDelay: 5_000,
  shutdownTimeout: 10_000,
  maxLen: 100_000,
  deadLetterMaxLen: 10_000,
  maxAttempts: 5,
  retryDelay: 100,
  retryMaxDelay: 5_000,
  claimIdle: 30_000,
  claimInterval: 5_000,
  blockTime: 1_000,
  concurrency: 16,
} as const;

/** Streams settings after validation. */
export interface ResolvedStreamsOptions {
  group: string | undefined;
  consumer: string;
  maxLen: number;
  deadLetterMaxLen: number;
  maxAttempts: number;
  retryDelay: number;
  retryMaxDelay: number;
  claimIdle: number;
  claimInterval: number;
  blockTime: number;
  startId: '0' | '$';
  /** Concurrency of one pattern. */
  concurrencyOf(pattern: string): number;
}

/** Transport options after validation: one connection, every default filled in. */
export interface ResolvedTransportOptions {
  mode: RedisTransportMode;
  connection: ResolvedRedisConnection;
  keyPrefix: string;
  channelPrefix: string;
  wildcards: boolean | 'auto';
  sendTimeout: number;
  emitTimeout: number;
  maxPayloadBytes: number;
  reconnectDelay: number;
  reconnectMaxDelay: number;
  shutdownTimeout: number;
  codec: RedisTransportCodec;
  serializer?: ProducerSerializer | ConsumerSerializer;
  deserializer?: ProducerDeserializer | ConsumerDeserializer;
  streams: ResolvedStreamsOptions;
  instrumentation?: Pick<RedisInstrumentation, 'emit'>;
}

function integer(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `an integer between ${min} and ${max}`, value);
  }
  return value;
}

function duration(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `an integer number of milliseconds between ${min} and ${max}`, value);
  }
  return value;
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

function resolveConcurrency(value: unknown): (pattern: string) => number {
  const field = 'streams.concurrency';
  if (value === undefined || typeof value === 'number') {
    const n = integer(value, field, 1, 10_000) ?? TRANSPORT_DEFAULTS.concurrency;
    return () => n;
  }
  if (!isPlainObject(value)) return fail(field, 'a number or a { pattern: number } object', value);
  const table = new Map<string, number>();
  for (const [pattern, n] of Object.entries(value)) table.set(pattern, integer(n, `${field}.${pattern}`, 1, 10_000)!);
  const fallback = table.get('*') ?? TRANSPORT_DEFAULTS.concurrency;
  return (pattern) => table.get(pattern) ?? fallback;
}

function resolveStreams(raw: unknown): ResolvedStreamsOptions {
  const streams = optionalObject(raw, 'streams') ?? {};
  rejectUnknownKeys(streams, STREAMS_OPTION_KEYS, 'streams');
  const group = optionalString(streams.group, 'streams.group', { nonEmpty: true });
  if (group !== undefined && !NAME_PATTERN.test(group)) fail('streams.group', 'letters, digits and : _ - . only');
  const consumer =
    optionalString(streams.consumer, 'streams.consumer', { nonEmpty: true }) ??
    `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const startId = streams.startId ?? '0';
  if (startId !== '0' && startId !== '$') fail('streams.startId', "'0' or '$'", startId);
  const claimIdle = duration(streams.claimIdle, 'streams.claimIdle', 100, 86_400_000) ?? TRANSPORT_DEFAULTS.claimIdle;
  const retryMaxDelay =
    duration(streams.retryMaxDelay, 'streams.retryMaxDelay', 0, 3_600_000) ?? TRANSPORT_DEFAULTS.retryMaxDelay;
  return {
    group,
    consumer,
    maxLen: integer(streams.maxLen, 'streams.maxLen', 1, 1e12) ?? TRANSPORT_DEFAULTS.maxLen,
    deadLetterMaxLen:
      integer(streams.deadLetterMaxLen, 'streams.deadLetterMaxLen', 1, 1e12) ?? TRANSPORT_DEFAULTS.deadLetterMaxLen,
    maxAttempts: integer(streams.maxAttempts, 'streams.maxAttempts', 1, 1_000) ?? TRANSPORT_DEFAULTS.maxAttempts,
    retryDelay: duration(streams.retryDelay, 'streams.retryDelay', 0, 3_600_000) ?? TRANSPORT_DEFAULTS.retryDelay,
    retryMaxDelay,
    claimIdle,
    claimInterval:
      duration(streams.claimInterval, 'streams.claimInterval', 10, 86_400_000) ?? TRANSPORT_DEFAULTS.claimInterval,
    blockTime: duration(streams.blockTime, 'streams.blockTime', 1, 60_000) ?? TRANSPORT_DEFAULTS.blockTime,
    startId,
    concurrencyOf: resolveConcurrency(streams.concurrency),
  };
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
    return fail('moduleOptions', 'the resolved RedisModule options (app.get(REDIS_RESOLVED_OPTIONS))', moduleOptions);
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
  const options = raw === undefined ? {} : optionalObject(raw, '(options)');
  if (!options) return fail('(options)', 'an options object', raw);
  const mode = options.mode ?? 'pubsub';
  if (mode !== 'pubsub' && mode !== 'streams') fail('mode', "'pubsub' or 'streams'", mode);
  const clientName = optionalString(options.clientName, 'clientName') ?? DEFAULT_CLIENT_NAME;
  if (!NAME_PATTERN.test(clientName)) fail('clientName', 'letters, digits and : _ - . only');
  const connection = resolveConnection(options, clientName);
  const modulePrefix = (options.moduleOptions as { keyPrefix?: string } | undefined)?.keyPrefix;
  const wildcards = options.wildcards ?? 'auto';
  if (wildcards !== 'auto' && typeof wildcards !== 'boolean') fail('wildcards', "true, false or 'auto'", wildcards);
  withMethods(options.codec, 'codec', ['encode', 'decode']);
  withMethods(options.serializer, 'serializer', ['serialize']);
  withMethods(options.deserializer, 'deserializer', ['deserialize']);
  withMethods(options.instrumentation, 'instrumentation', ['emit']);
  const reconnectDelay =
    duration(options.reconnectDelay, 'reconnectDelay', 1, 600_000) ?? TRANSPORT_DEFAULTS.reconnectDelay;
  const reconnectMaxDelay =
    duration(options.reconnectMaxDelay, 'reconnectMaxDelay', 1, 600_000) ?? TRANSPORT_DEFAULTS.reconnectMaxDelay;
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
    sendTimeout: duration(options.sendTimeout, 'sendTimeout', 1, 86_400_000) ?? TRANSPORT_DEFAULTS.sendTimeout,
    emitTimeout: duration(options.emitTimeout, 'emitTimeout', 1, 86_400_000) ?? TRANSPORT_DEFAULTS.emitTimeout,
    maxPayloadBytes:
      integer(options.maxPayloadBytes, 'maxPayloadBytes', 1_024, 512 * 1_048_576) ?? TRANSPORT_DEFAULTS.maxPayloadBytes,
    reconnectDelay,
    reconnectMaxDelay,
    shutdownTimeout:
      duration(options.shutdownTimeout, 'shutdownTimeout', 0, 3_600_000) ?? TRANSPORT_DEFAULTS.shutdownTimeout,
    codec: (options.codec as RedisTransportCodec | undefined) ?? new JsonTransportCodec(),
    serializer: options.serializer as ResolvedTransportOptions['serializer'],
    deserializer: options.deserializer as ResolvedTransportOptions['deserializer'],
    streams,
    instrumentation: options.instrumentation as ResolvedTransportOptions['instrumentation'],
  };
}
