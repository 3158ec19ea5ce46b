import { DEFAULT_REDIS_CONNECTION } from '../redis.constants.js';
import type { ResolvedRedisConnection, ResolvedRedisOptions } from '../interfaces/resolved-redis-options.interface.js';
import { fail, optionalBoolean, optionalObject, optionalString } from './option-checks.js';
import { resolveConnectionOptions } from './resolve-connection-options.js';
import { resolveCacheOptions } from './resolve-cache-options.js';
import { resolveLockOptions } from './resolve-lock-options.js';

/** Top-level options that are not connection options. Later capabilities add their own key here. */
const MODULE_OPTION_KEYS = ['keyPrefix', 'startDegraded', 'connections', 'clientName', 'lock', 'cache'] as const;

const KEY_PREFIX_PATTERN = /^[A-Za-z0-9:_\-.{}]*$/;
const CLIENT_NAME_PATTERN = /^[A-Za-z0-9:_\-.]+$/;
const CONNECTION_NAME_PATTERN = /^[A-Za-z0-9_\-.]+$/;

/** @default 'nest-redis' */
export const DEFAULT_CLIENT_NAME = 'nest-redis';

/**
 * The single place where raw module options are validated, defaulted and normalised. Called by the options
 * provider, so `forRoot` and `forRootAsync` are checked the same way, at startup.
 *
 * @throws RedisOptionsError naming the offending field path
 */
export function resolveRedisOptions(raw: unknown): ResolvedRedisOptions {
  const options = optionalObject(raw, '(options)');
  if (!options) return fail('(options)', 'an options object', raw);

  const keyPrefix = optionalString(options.keyPrefix, 'keyPrefix') ?? '';
  if (!KEY_PREFIX_PATTERN.test(keyPrefix) || keyPrefix.length > 128) {
    fail('keyPrefix', 'at most 128 characters from A-Z a-z 0-9 : _ - . { } (no glob characters)');
  }
  const startDegraded = optionalBoolean(options.startDegraded, 'startDegraded') ?? false;
  const clientName = optionalString(options.clientName, 'clientName') ?? DEFAULT_CLIENT_NAME;
  if (!CLIENT_NAME_PATTERN.test(clientName)) fail('clientName', 'letters, digits and : _ - . only');

  const connections = new Map<string, ResolvedRedisConnection>();
  connections.set(
    DEFAULT_REDIS_CONNECTION,
    resolveConnectionOptions(options, '', DEFAULT_REDIS_CONNECTION, clientName, MODULE_OPTION_KEYS),
  );
  const named = optionalObject(options.connections, 'connections') ?? {};
  for (const [name, value] of Object.entries(named)) {
    const path = `connections.${name}`;
    if (!CONNECTION_NAME_PATTERN.test(name) || name === DEFAULT_REDIS_CONNECTION) {
      fail(path, `a connection name of letters, digits and _ - . other than "${DEFAULT_REDIS_CONNECTION}"`);
    }
    const connection = optionalObject(value, path);
    if (!connection) return fail(path, 'connection options', value);
    connections.set(name, resolveConnectionOptions(connection, path, name, clientName));
  }
  const lock = resolveLockOptions(options.lock, clientName);
  const cache = resolveCacheOptions(options.cache);
  return { keyPrefix, startDegraded, connections, lock, cache };
}
