import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  fail,
  isPlainObject,
  optionalDuration,
  optionalInteger,
  optionalObject,
  optionalString,
  rejectUnknownKeys,
} from '../../options/option-checks.js';
import { NAME_PATTERN, TRANSPORT_DEFAULTS } from './transport-defaults.js';

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
  'durability',
] as const;

const DURABILITY_OPTION_KEYS = ['replicas', 'timeout', 'fsync'] as const;

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
  /** Client: what an `emit` waits for after its `XADD` (`WAIT` / `WAITAOF`); none when not configured. */
  durability: ResolvedStreamsDurability | undefined;
  /** Concurrency of one pattern. */
  concurrencyOf(pattern: string): number;
}

/** `streams.durability` after validation. */
export interface ResolvedStreamsDurability {
  replicas: number;
  timeout: number;
  fsync: boolean;
}

function resolveConcurrency(value: unknown): (pattern: string) => number {
  const field = 'streams.concurrency';
  if (value === undefined || typeof value === 'number') {
    const n = optionalInteger(value, field, { min: 1, max: 10_000 }) ?? TRANSPORT_DEFAULTS.concurrency;
    return () => n;
  }
  if (!isPlainObject(value)) return fail(field, 'a number or a { pattern: number } object', value);
  const table = new Map<string, number>();
  for (const [pattern, n] of Object.entries(value))
    table.set(pattern, optionalInteger(n, `${field}.${pattern}`, { min: 1, max: 10_000 })!);
  const fallback = table.get('*') ?? TRANSPORT_DEFAULTS.concurrency;
  return (pattern) => table.get(pattern) ?? fallback;
}

/** Validates the transport's `streams` options and fills in the defaults (they apply in streams mode only). */
export function resolveStreams(raw: unknown): ResolvedStreamsOptions {
  const streams = optionalObject(raw, 'streams') ?? {};
  rejectUnknownKeys(streams, STREAMS_OPTION_KEYS, 'streams');
  const group = optionalString(streams.group, 'streams.group', { nonEmpty: true });
  if (group !== undefined && !NAME_PATTERN.test(group)) fail('streams.group', 'letters, digits and : _ - . only');
  const consumer =
    optionalString(streams.consumer, 'streams.consumer', { nonEmpty: true }) ??
    `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const startId = streams.startId ?? '0';
  if (startId !== '0' && startId !== '$') fail('streams.startId', "'0' or '$'", startId);
  const claimIdle =
    optionalDuration(streams.claimIdle, 'streams.claimIdle', { min: 100, max: 86_400_000 }) ??
    TRANSPORT_DEFAULTS.claimIdle;
  const retryMaxDelay =
    optionalDuration(streams.retryMaxDelay, 'streams.retryMaxDelay', { min: 0, max: 3_600_000 }) ??
    TRANSPORT_DEFAULTS.retryMaxDelay;
  return {
    group,
    consumer,
    maxLen: optionalInteger(streams.maxLen, 'streams.maxLen', { min: 1, max: 1e12 }) ?? TRANSPORT_DEFAULTS.maxLen,
    deadLetterMaxLen:
      optionalInteger(streams.deadLetterMaxLen, 'streams.deadLetterMaxLen', { min: 1, max: 1e12 }) ??
      TRANSPORT_DEFAULTS.deadLetterMaxLen,
    maxAttempts:
      optionalInteger(streams.maxAttempts, 'streams.maxAttempts', { min: 1, max: 1_000 }) ??
      TRANSPORT_DEFAULTS.maxAttempts,
    retryDelay:
      optionalDuration(streams.retryDelay, 'streams.retryDelay', { min: 0, max: 3_600_000 }) ??
      TRANSPORT_DEFAULTS.retryDelay,
    retryMaxDelay,
    claimIdle,
    claimInterval:
      optionalDuration(streams.claimInterval, 'streams.claimInterval', { min: 10, max: 86_400_000 }) ??
      TRANSPORT_DEFAULTS.claimInterval,
    blockTime:
      optionalDuration(streams.blockTime, 'streams.blockTime', { min: 1, max: 60_000 }) ?? TRANSPORT_DEFAULTS.blockTime,
    startId,
    durability: resolveDurability(streams.durability),
    concurrencyOf: resolveConcurrency(streams.concurrency),
  };
}

function resolveDurability(raw: unknown): ResolvedStreamsDurability | undefined {
  const durability = optionalObject(raw, 'streams.durability');
  if (durability === undefined) return undefined;
  rejectUnknownKeys(durability, DURABILITY_OPTION_KEYS, 'streams.durability');
  const replicas = optionalInteger(durability.replicas, 'streams.durability.replicas', { min: 1, max: 100 });
  if (replicas === undefined) return fail('streams.durability.replicas', 'an integer between 1 and 100', undefined);
  const fsync = durability.fsync ?? false;
  if (typeof fsync !== 'boolean') fail('streams.durability.fsync', 'true or false', fsync);
  return {
    replicas,
    timeout:
      optionalDuration(durability.timeout, 'streams.durability.timeout', { min: 1, max: 60_000 }) ??
      TRANSPORT_DEFAULTS.durabilityTimeout,
    fsync,
  };
}
