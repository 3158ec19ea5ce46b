import type { WorkerConfig } from './worker-config.interface.js';

/** @default 3001 */
export const DEFAULT_WORKER_PORT = 3001;
/** @default 'redis://127.0.0.1:6379' */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** @default 'booking:' (the API's namespace: the worker consumes what the API writes) */
export const DEFAULT_REDIS_KEY_PREFIX = 'booking:';

/**
 * Reads the worker's configuration from environment variables. Empty values count as unset, so a blank line in an
 * env file does not override a default.
 *
 * @param env the variables to read
 * @default env process.env
 * @throws Error naming the variable when `WORKER_PORT` is not a port number (the value is echoed: a port is no secret)
 */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return {
    port: parsePort(env, 'WORKER_PORT', DEFAULT_WORKER_PORT),
    redis: {
      url: nonEmpty(env.REDIS_URL) ?? DEFAULT_REDIS_URL,
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
