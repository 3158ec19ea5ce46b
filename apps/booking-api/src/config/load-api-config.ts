import type { ApiConfig } from './api-config.interface.js';

/** @default 3000 */
export const DEFAULT_API_PORT = 3000;
/** @default 'redis://127.0.0.1:6379' */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** @default 'booking:' */
export const DEFAULT_REDIS_KEY_PREFIX = 'booking:';

/**
 * Reads the API's configuration from environment variables. Empty values count as unset, so a blank line in an
 * env file does not override a default.
 *
 * @param env the variables to read
 * @default env process.env
 * @throws Error naming the variable when `PORT` is not a port number (the value is echoed: a port is no secret)
 */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return {
    port: parsePort(env, 'PORT', DEFAULT_API_PORT),
    redis: {
      url: nonEmpty(env.REDIS_URL) ?? DEFAULT_REDIS_URL,
      keyPrefix: nonEmpty(env.REDIS_KEY_PREFIX) ?? DEFAULT_REDIS_KEY_PREFIX,
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
