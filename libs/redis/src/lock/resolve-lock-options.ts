import type { ResolvedRedisConnection } from '../connection/resolved-redis-connection.interface.js';
import type { LockModuleOptions, LockNodeOptions, ResolvedLockOptions } from './lock-options.interface.js';
import { optionKeys } from '../utils/option-keys.js';
import {
  fail,
  isPlainObject,
  optionalBoolean,
  optionalDuration,
  optionalObject,
  rejectUnknownKeys,
} from '../options/option-checks.js';
import { resolveConnectionOptions } from '../options/resolve-connection-options.js';

const LOCK_OPTION_KEYS = optionKeys<LockModuleOptions>()([
  'ttl',
  'waitTimeout',
  'retryDelay',
  'retryJitter',
  'autoExtend',
  'maxHoldTime',
  'driftFactor',
  'releaseTimeout',
  'nodes',
  'durability',
]);
const LOCK_NODE_KEYS = optionKeys<Exclude<LockNodeOptions, string>>()([
  'url',
  'username',
  'password',
  'credentials',
  'redisOptions',
  'connectTimeout',
]);

/** Defaults of the `lock` options, in ms (see `LockModuleOptions` for what each one does). */
export const LOCK_DEFAULTS = {
  ttl: 10_000,
  waitTimeout: 10_000,
  retryDelay: 100,
  retryJitter: 50,
  autoExtend: true,
  maxHoldTime: 300_000,
  driftFactor: 0.01,
  releaseTimeout: 1_000,
} as const;

/** Shortest lock lifetime accepted: below it, round trips and timer slack eat most of the validity. */
const MIN_TTL_MS = 50;
const MAX_DURATION_MS = 86_400_000;

/** The per-call part of the `lock` options. */
type LockTimings = Omit<ResolvedLockOptions, 'nodes' | 'driftFactor' | 'releaseTimeout' | 'durability'>;

/** Per-call durations shared by the module defaults and `LockOptions`; `path` prefixes the field names. */
export function resolveLockTimings(raw: Record<string, unknown>, path: string, defaults: LockTimings): LockTimings {
  // Runs on every call that passes options: field paths are only built for an error.
  const { ttl: rawTtl, maxHoldTime: rawMaxHold, waitTimeout, retryDelay, retryJitter, autoExtend } = raw;
  const ttl = rawTtl === undefined ? defaults.ttl : duration(rawTtl, path, 'ttl', MIN_TTL_MS, MAX_DURATION_MS);
  const maxHoldTime =
    rawMaxHold === undefined
      ? defaults.maxHoldTime
      : duration(rawMaxHold, path, 'maxHoldTime', MIN_TTL_MS, MAX_DURATION_MS);
  if (maxHoldTime < ttl) fail(`${path}.maxHoldTime`, `at least ttl (${ttl} ms)`, maxHoldTime);
  return {
    ttl,
    waitTimeout:
      waitTimeout === undefined ? defaults.waitTimeout : duration(waitTimeout, path, 'waitTimeout', 0, MAX_DURATION_MS),
    retryDelay: retryDelay === undefined ? defaults.retryDelay : duration(retryDelay, path, 'retryDelay', 1, 60_000),
    retryJitter:
      retryJitter === undefined ? defaults.retryJitter : duration(retryJitter, path, 'retryJitter', 0, 60_000),
    autoExtend:
      autoExtend === undefined ? defaults.autoExtend : (optionalBoolean(autoExtend, `${path}.autoExtend`) as boolean),
    maxHoldTime,
  };
}

function duration(value: unknown, path: string, key: string, min: number, max: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  return optionalDuration(value, `${path}.${key}`, { min, max }) as number;
}

/**
 * Validates and defaults the module's `lock` options. Redlock nodes are resolved like any connection (named
 * `lock-node-<i>`, credentials never echoed); they must be single nodes, not Sentinel or Cluster.
 *
 * @throws RedisOptionsError naming the offending field (`lock.ttl`, `lock.nodes[1].url`, …)
 */
export function resolveLockOptions(raw: unknown, clientName: string): ResolvedLockOptions {
  const options = optionalObject(raw, 'lock') ?? {};
  rejectUnknownKeys(options, LOCK_OPTION_KEYS, 'lock');
  const timings = resolveLockTimings(options, 'lock', LOCK_DEFAULTS);

  let driftFactor: number = LOCK_DEFAULTS.driftFactor;
  if (options.driftFactor !== undefined) {
    const value = options.driftFactor;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 0.5) {
      fail('lock.driftFactor', 'a number in [0, 0.5)', value);
    }
    driftFactor = value;
  }

  const releaseTimeout =
    optionalDuration(options.releaseTimeout, 'lock.releaseTimeout', { min: 1, max: 60_000 }) ??
    LOCK_DEFAULTS.releaseTimeout;

  const nodes: ResolvedRedisConnection[] = [];
  if (options.nodes !== undefined) {
    if (!Array.isArray(options.nodes) || options.nodes.length === 0) {
      fail('lock.nodes', 'a non-empty array of Redis node URLs or connection options', options.nodes);
    }
    options.nodes.forEach((node: unknown, i) => {
      const path = `lock.nodes[${i}]`;
      const connection = typeof node === 'string' ? { url: node } : node;
      if (!isPlainObject(connection)) return fail(path, 'a redis:// URL or connection options', node);
      rejectUnknownKeys(connection, LOCK_NODE_KEYS, path);
      nodes.push(resolveConnectionOptions(connection, path, `lock-node-${i}`, clientName));
    });
  }
  return {
    ...timings,
    driftFactor,
    releaseTimeout,
    nodes,
    durability: resolveLockDurability(options.durability, nodes),
  };
}

function resolveLockDurability(
  raw: unknown,
  nodes: readonly ResolvedRedisConnection[],
): ResolvedLockOptions['durability'] {
  const durability = optionalObject(raw, 'lock.durability');
  if (durability === undefined) return undefined;
  if (nodes.length > 0) fail('lock.durability', 'not to be combined with lock.nodes (Redlock needs no replicas)');
  rejectUnknownKeys(durability, ['replicas', 'timeout', 'fsync'], 'lock.durability');
  const replicas = durability.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1 || replicas > 100) {
    fail('lock.durability.replicas', 'an integer between 1 and 100', replicas);
  }
  const fsync = durability.fsync ?? false;
  if (typeof fsync !== 'boolean') fail('lock.durability.fsync', 'true or false', fsync);
  const timeout = optionalDuration(durability.timeout, 'lock.durability.timeout', { min: 1, max: 60_000 }) ?? 1_000;
  return { replicas: replicas as number, timeout, fsync: fsync as boolean };
}
