import { hostname } from 'node:os';
import { loadApiConfig, redisConnectionFromEnv } from '../../../booking-api/src/config/load-api-config.js';
import type { WorkerConfig } from './worker-config.interface.js';

/** @default 3001 */
export const DEFAULT_WORKER_PORT = 3001;
/** @default 9001 */
export const DEFAULT_WORKER_MANAGEMENT_PORT = 9_001;
/** Shortest `NOTIFICATIONS_TOKEN` accepted: 128 bits as hex, so it cannot be guessed. */
export const MIN_NOTIFICATIONS_TOKEN_LENGTH = 32;
/** @default 'redis://127.0.0.1:6379' */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** @default 2 (one job's transaction at a time, and a report) */
export const DEFAULT_WORKER_DATABASE_POOL_SIZE = 2;
/** @default 'booking:' (the API's namespace: the worker consumes what the API writes) */
export const DEFAULT_REDIS_KEY_PREFIX = 'booking:';

/**
 * Reads the worker's configuration from environment variables. Empty values count as unset, so a blank line in an
 * env file does not override a default.
 *
 * @param env the variables to read
 * @default env process.env
 * @throws Error naming the variable when a port is not a port number (the value is echoed: a port is no secret) or
 *   `NOTIFICATIONS_TOKEN` is too short (never echoed)
 */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const port = parsePort(env, 'WORKER_PORT', DEFAULT_WORKER_PORT);
  const managementPort = parsePort(env, 'WORKER_MANAGEMENT_PORT', DEFAULT_WORKER_MANAGEMENT_PORT);
  if (managementPort === port && port !== 0) {
    throw new Error(
      'Invalid environment variable WORKER_MANAGEMENT_PORT: expected a port other than WORKER_PORT (metrics stay off the public port).',
    );
  }
  const notificationsToken = nonEmpty(env.NOTIFICATIONS_TOKEN)?.trim();
  if (notificationsToken !== undefined && notificationsToken.length < MIN_NOTIFICATIONS_TOKEN_LENGTH) {
    // The value is a secret: its length is named, never the value.
    throw new Error(
      `Invalid environment variable NOTIFICATIONS_TOKEN: expected at least ${MIN_NOTIFICATIONS_TOKEN_LENGTH} characters.`,
    );
  }
  const workerId = nonEmpty(env.WORKER_ID)?.trim() ?? `${hostname()}:${process.pid}`;
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(workerId)) {
    throw new Error(
      `Invalid environment variable WORKER_ID: expected 1 to 128 letters, digits, '.', '_', ':' or '-', got "${workerId}".`,
    );
  }
  const database = databaseConfig(env);
  return {
    port,
    managementPort,
    workerId,
    ...(database ? { database } : {}),
    ...(notificationsToken === undefined ? {} : { notificationsToken }),
    redis: {
      // REDIS_URL, or REDIS_SENTINELS + REDIS_SENTINEL_NAME, read and checked as booking-api reads them.
      ...redisConnectionFromEnv(env, DEFAULT_REDIS_URL),
      keyPrefix: nonEmpty(env.REDIS_KEY_PREFIX) ?? DEFAULT_REDIS_KEY_PREFIX,
      // From a Secret (e.g. the Bitnami chart's `redis-password`), so the URL in a ConfigMap holds no credential.
      ...(nonEmpty(env.REDIS_PASSWORD) ? { password: env.REDIS_PASSWORD } : {}),
    },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function parsePort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = nonEmpty(env[name]);
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65_535) {
    throw new Error(`Invalid environment variable ${name}: expected a port number between 0 and 65535, got "${text}".`);
  }
  return port;
}

/** booking-api's database settings, read as the API reads them (same variables, same checks). */
function databaseConfig(env: NodeJS.ProcessEnv): WorkerConfig['database'] {
  const url = nonEmpty(env.DATABASE_URL);
  if (url === undefined) return undefined;
  const { database } = loadApiConfig({
    DATABASE_URL: url,
    DATABASE_SCHEMA: env.DATABASE_SCHEMA,
    DATABASE_POOL_SIZE: nonEmpty(env.DATABASE_POOL_SIZE) ?? String(DEFAULT_WORKER_DATABASE_POOL_SIZE),
    DATABASE_SINGLE_SESSION: env.DATABASE_SINGLE_SESSION,
  });
  return { ...database, url };
}
