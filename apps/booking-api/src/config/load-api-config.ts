import type { RedisModuleOptions } from '@app/redis';
import type { ApiConfig } from './api-config.interface.js';

/** @default 3000 */
export const DEFAULT_API_PORT = 3000;
/** @default 9000 */
export const DEFAULT_MANAGEMENT_PORT = 9_000;
/** @default 'redis://127.0.0.1:6379' */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** @default 'booking:' */
export const DEFAULT_REDIS_KEY_PREFIX = 'booking:';
/** @default 10 */
export const DEFAULT_DATABASE_POOL_SIZE = 10;
/** @default 10000 */
export const DEFAULT_BOOKING_LOCK_WAIT_MS = 10_000;
/** @default 300000 */
export const DEFAULT_HOLD_TTL_MS = 300_000;
/** @default 200 */
export const DEFAULT_PAYMENT_DELAY_MS = 200;
/** @default 20 */
export const DEFAULT_RATE_LIMIT_LIMIT = 20;
/** @default 60000 */
export const DEFAULT_RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * Reads the API's configuration from environment variables. Empty values count as unset, so a blank line in an
 * env file does not override a default.
 *
 * @param env the variables to read
 * @default env process.env
 * @throws Error naming the variable when a value is malformed (ports, sizes and flags are echoed; URLs never are)
 */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const port = parsePort(env, 'PORT', DEFAULT_API_PORT);
  const managementPort = parsePort(env, 'MANAGEMENT_PORT', DEFAULT_MANAGEMENT_PORT);
  if (managementPort === port && port !== 0) {
    throw invalid(
      'MANAGEMENT_PORT',
      'a port other than PORT (metrics and docs stay off the public port)',
      String(port),
    );
  }
  return {
    port,
    managementPort,
    redis: {
      ...redisConnectionFromEnv(env, DEFAULT_REDIS_URL),
      keyPrefix: nonEmpty(env.REDIS_KEY_PREFIX) ?? DEFAULT_REDIS_KEY_PREFIX,
      // From a Secret (e.g. the Bitnami chart's `redis-password`), so the URL in a ConfigMap holds no credential.
      ...(nonEmpty(env.REDIS_PASSWORD) ? { password: env.REDIS_PASSWORD } : {}),
      ...cacheOptions(env),
    },
    database: {
      url: nonEmpty(env.DATABASE_URL),
      schema: parseSchema(env, 'DATABASE_SCHEMA'),
      poolSize: parseInteger(env, 'DATABASE_POOL_SIZE', DEFAULT_DATABASE_POOL_SIZE, 1, 1_000),
      singleSession: parseFlag(env, 'DATABASE_SINGLE_SESSION'),
    },
    seedDemoData: parseFlag(env, 'SEED_DEMO_DATA'),
    bookingLockWaitMs: parseInteger(env, 'BOOKING_LOCK_WAIT_MS', DEFAULT_BOOKING_LOCK_WAIT_MS, 0, 600_000),
    holdTtlMs: parseInteger(env, 'HOLD_TTL_MS', DEFAULT_HOLD_TTL_MS, 1_000, 86_400_000),
    paymentDelayMs: parseInteger(env, 'PAYMENT_DELAY_MS', DEFAULT_PAYMENT_DELAY_MS, 0, 60_000),
    bookingEventsReplicas: parseInteger(env, 'BOOKING_EVENTS_REPLICAS', 0, 0, 100),
    rateLimit: {
      limit: parseInteger(env, 'RATE_LIMIT_LIMIT', DEFAULT_RATE_LIMIT_LIMIT, 1, 1_000_000),
      windowMs: parseInteger(env, 'RATE_LIMIT_WINDOW_MS', DEFAULT_RATE_LIMIT_WINDOW_MS, 1_000, 86_400_000),
    },
  };
}

/**
 * Where Redis is: `REDIS_URL`, or a Sentinel group (`REDIS_SENTINELS`, comma-separated `host:port` addresses, with
 * `REDIS_SENTINEL_NAME`, the master group they watch; ioredis's `failoverDetector` on). Shared by booking-worker,
 * which reads the same variables.
 *
 * @param env the variables to read
 * @param defaultUrl the URL used when neither `REDIS_URL` nor `REDIS_SENTINELS` is set
 * @throws Error naming the variable when the Sentinel settings are incomplete, malformed or combined with `REDIS_URL`
 *   (addresses are echoed; the URL never is: it may hold a password)
 */
export function redisConnectionFromEnv(
  env: NodeJS.ProcessEnv,
  defaultUrl: string,
): Pick<RedisModuleOptions, 'url' | 'sentinels' | 'name' | 'redisOptions'> {
  const sentinels = nonEmpty(env.REDIS_SENTINELS)?.trim();
  const name = nonEmpty(env.REDIS_SENTINEL_NAME)?.trim();
  const url = nonEmpty(env.REDIS_URL);
  if (sentinels === undefined) {
    if (name !== undefined) {
      throw new Error(
        'Invalid environment variable REDIS_SENTINELS: expected the sentinel addresses (required with REDIS_SENTINEL_NAME).',
      );
    }
    return { url: url ?? defaultUrl };
  }
  if (url !== undefined) {
    throw new Error(
      'Invalid environment variable REDIS_SENTINELS: expected REDIS_URL unset (the sentinels say where the master is).',
    );
  }
  const addresses = sentinels.split(',').map((entry) => entry.trim());
  for (const address of addresses) {
    const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(address);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65_535) {
      throw invalid('REDIS_SENTINELS', 'comma-separated host:port addresses', sentinels);
    }
  }
  if (name === undefined) {
    throw new Error(
      'Invalid environment variable REDIS_SENTINEL_NAME: expected the master group name the sentinels watch (required with REDIS_SENTINELS).',
    );
  }
  // ioredis then listens for the sentinels' +switch-master and leaves a demoted master at once. Without it a
  // connection stays on the old master after a `SENTINEL FAILOVER` until Sentinel reconfigures that node (about 10 s
  // in the demo soak), and every write it acknowledges meanwhile is lost when the node resyncs as a replica.
  return { sentinels: addresses, name, redisOptions: { failoverDetector: true } };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function invalid(name: string, expected: string, text: string): Error {
  return new Error(`Invalid environment variable ${name}: expected ${expected}, got "${text}".`);
}

function parsePort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = nonEmpty(env[name]);
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65_535) throw invalid(name, 'a port number between 0 and 65535', text);
  return port;
}

function parseInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = nonEmpty(env[name]);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw invalid(name, `an integer between ${min} and ${max}`, text);
  }
  return value;
}

/** `CACHE_L1_MAX_ENTRIES` turns on the library's in-process L1 in front of Redis (off by default). */
function cacheOptions(env: NodeJS.ProcessEnv): Pick<ApiConfig['redis'], 'cache'> {
  const maxEntries = parseInteger(env, 'CACHE_L1_MAX_ENTRIES', 0, 0, 10_000_000);
  return maxEntries > 0 ? { cache: { l1: { maxEntries } } } : {};
}

function parseFlag(env: NodeJS.ProcessEnv, name: string): boolean {
  const text = nonEmpty(env[name])?.trim().toLowerCase();
  if (text === undefined || text === 'false' || text === '0') return false;
  if (text === 'true' || text === '1') return true;
  throw invalid(name, 'true, false, 1 or 0', text);
}

function parseSchema(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = nonEmpty(env[name])?.trim();
  if (text === undefined) return undefined;
  // The name goes into `search_path` and `CREATE SCHEMA`: plain identifiers only, nothing to quote or inject.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(text)) throw invalid(name, 'a lower-case SQL identifier', text);
  return text;
}
