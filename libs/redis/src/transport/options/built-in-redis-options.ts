import { RedisOptionsError } from '../../errors/redis-options.error.js';
import { fail } from '../../options/option-checks.js';
import { BUILT_IN_OPTION_REPLACED } from '../redis-transport.messages.js';

/**
 * Options of Nest's `Transport.REDIS` that the transport does not take under the same name, with what to write
 * instead. The built-in gives up reconnecting after `retryAttempts` fixed `retryDelay`s; ours reconnects forever
 * with exponential backoff, so the two cannot be honoured without changing what they mean.
 */
const REPLACED: Record<string, string> = {
  retryAttempts:
    'the transport reconnects forever with exponential backoff; remove it (use "reconnectMaxDelay" to bound the wait between attempts)',
  retryDelay: 'use "reconnectDelay" (first delay, doubled per attempt) and "reconnectMaxDelay"',
};

/** ioredis options the built-in accepts at the top level (it spreads them into ioredis), which ours reads from `redisOptions`. */
const IOREDIS_KEYS = new Set([
  'family',
  'path',
  'tls',
  'db',
  'keepAlive',
  'noDelay',
  'connectionName',
  'disableClientInfo',
  'clientInfoTag',
  'commandTimeout',
  'socketTimeout',
  'disconnectTimeout',
  'retryStrategy',
  'reconnectOnError',
  'role',
  'sentinelRetryStrategy',
  'sentinelReconnectStrategy',
  'natMap',
  'enableTLSForSentinelMode',
  'updateSentinels',
  'failoverDetector',
  'enableOfflineQueue',
  'enableReadyCheck',
  'autoResubscribe',
  'autoResendUnfulfilledCommands',
  'lazyConnect',
  'readOnly',
  'stringNumbers',
  'maxRetriesPerRequest',
  'maxLoadingRetryTime',
  'enableAutoPipelining',
  'autoPipeliningIgnoredCommands',
  'sentinelMaxConnections',
  'blockingTimeoutGrace',
  'showFriendlyErrorStack',
]);

/** Keys the built-in takes at the top level and this transport honours as they are. */
const HONOURED = new Set(['host', 'port', 'wildcards', 'serializer', 'deserializer', 'returnBuffers']);

/**
 * Translates the options of Nest's built-in `Transport.REDIS` that a migrating user keeps: `host` and `port`
 * become the connection's address (as `redisOptions.host`/`port`), and every other built-in option is either
 * honoured as it is (`wildcards`, `serializer`, `deserializer`, `returnBuffers`) or rejected here, naming its
 * replacement: `retryAttempts`/`retryDelay`, and ioredis options written at the top level (ours reads them from
 * `redisOptions`).
 *
 * @param options the raw transport options (not modified)
 * @param known the transport's own option keys
 * @returns the options with `host`/`port` moved into `redisOptions`
 * @throws RedisOptionsError naming the option and its replacement
 */
export function translateBuiltInOptions(
  options: Record<string, unknown>,
  known: readonly string[],
): Record<string, unknown> {
  for (const key of Object.keys(options)) {
    if (known.includes(key) || HONOURED.has(key)) continue;
    const replacement =
      REPLACED[key] ??
      (IOREDIS_KEYS.has(key) ? `ioredis options go under "redisOptions": write "redisOptions.${key}"` : undefined);
    if (replacement !== undefined) throw new RedisOptionsError(BUILT_IN_OPTION_REPLACED(key, replacement), key);
  }
  const { host, port, ...rest } = options;
  if (host === undefined && port === undefined) return options;
  const conflicting = ['url', 'sentinels', 'cluster', 'moduleOptions'].filter((key) => options[key] !== undefined);
  if (conflicting.length > 0) {
    throw new RedisOptionsError(
      BUILT_IN_OPTION_REPLACED(
        host !== undefined ? 'host' : 'port',
        `it cannot be combined with ${conflicting.map((k) => `"${k}"`).join(', ')}; give the address once`,
      ),
      host !== undefined ? 'host' : 'port',
    );
  }
  if (host !== undefined && (typeof host !== 'string' || host === '')) fail('host', 'a non-empty host name', host);
  if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)) {
    fail('port', 'a port number between 1 and 65535', port);
  }
  const redisOptions = (rest.redisOptions ?? {}) as Record<string, unknown>;
  return {
    ...rest,
    redisOptions: { ...redisOptions, ...(host !== undefined && { host }), ...(port !== undefined && { port }) },
  };
}
