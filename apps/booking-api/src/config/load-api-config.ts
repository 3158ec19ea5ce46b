import type { ApiConfig } from './api-config.interface.js';

/** @default 3000 */
export const DEFAULT_API_PORT = 3000;
/** @default 'redis://127.0.0.1:6379' */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** @default 'booking:' */
export const DEFAULT_REDIS_KEY_PREFIX = 'booking:';
/** @default 10 */
export const DEFAULT_DATABASE_POOL_SIZE = 10;
/** @default 10000 */
export const DEFAULT_BOOKING_LOCK_WAIT_MS = 10_000;

/**
 * Reads the API's configuration from environment variables. Empty values count as unset, so a blank line in an
 * env file does not override a default.
 *
 * @param env the variables to read
 * @default env process.env
 * @throws Error naming the variable when a value is malformed (ports, sizes and flags are echoed; URLs never are)
 */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return {
    port: parsePort(env, 'PORT', DEFAULT_API_PORT),
    redis: {
      url: nonEmpty(env.REDIS_URL) ?? DEFAULT_REDIS_URL,
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
  };
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
