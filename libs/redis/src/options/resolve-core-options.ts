import { DEFAULT_REDIS_CONNECTION } from '../redis.constants.js';
import type {
  ResolvedRedisConnection,
  ResolvedRedisCoreOptions,
} from '../connection/resolved-redis-connection.interface.js';
import { fail, optionalBoolean, optionalObject, optionalString } from './option-checks.js';
import { resolveConnectionOptions } from './resolve-connection-options.js';

const KEY_PREFIX_PATTERN = /^[A-Za-z0-9:_\-.{}]*$/;
const CLIENT_NAME_PATTERN = /^[A-Za-z0-9:_\-.]+$/;
const CONNECTION_NAME_PATTERN = /^[A-Za-z0-9_\-.]+$/;

/** @default 'nest-redis' */
export const DEFAULT_CLIENT_NAME = 'nest-redis';

/** The core options and the client name the feature resolvers label their own connections with. */
export interface ResolvedCoreOptionsWithClientName {
  core: ResolvedRedisCoreOptions;
  clientName: string;
}

/**
 * Validates and defaults the options that are not a feature's: `keyPrefix`, `startDegraded`, `clientName`, the main
 * connection and the named `connections`. `moduleOptionKeys` are the other top-level keys the main connection's
 * options may sit beside (the feature sections), so they are not rejected as unknown connection options.
 *
 * @throws RedisOptionsError naming the offending field path
 */
export function resolveCoreOptions(
  options: Record<string, unknown>,
  moduleOptionKeys: readonly string[],
): ResolvedCoreOptionsWithClientName {
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
    resolveConnectionOptions(options, '', DEFAULT_REDIS_CONNECTION, clientName, moduleOptionKeys),
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
  return { core: { keyPrefix, startDegraded, connections }, clientName };
}
