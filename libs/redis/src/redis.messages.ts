/**
 * Message builders shared by errors and logs. Each takes already-redacted values: nothing passed here may hold a
 * password.
 */

export const INVALID_OPTION = (field: string, expected: string, got?: string): string =>
  `Invalid RedisModule option "${field}": expected ${expected}${got === undefined ? '' : `, got ${got}`}.`;

export const CONFLICTING_OPTIONS = (field: string, others: string[]): string =>
  `Invalid RedisModule option "${field}": it cannot be combined with ${others.map((o) => `"${o}"`).join(', ')}.`;

export const CONNECTION_NOT_CONFIGURED = (name: string): string =>
  `Redis connection "${name}" is injected but not configured: add it under "connections.${name}" in the RedisModule options.`;

export const CONNECTION_NOT_READY = (name: string, target: string, timeoutMs: number, reason?: string): string =>
  `Redis connection "${name}" (${target}) was not ready within connectTimeout ${timeoutMs} ms` +
  (reason ? `: ${reason}` : '') +
  '. Check the address and credentials, or set startDegraded: true to boot without Redis.';

export const CONNECTION_REJECTED = (name: string, target: string, reason: string): string =>
  `Redis connection "${name}" (${target}) was rejected: ${reason}. Retrying cannot fix this: check the credentials, ` +
  'ACL permissions and TLS settings.';

export const STARTING_DEGRADED = (name: string, target: string, timeoutMs: number, reason?: string): string =>
  `Redis connection "${name}" (${target}) not ready within ${timeoutMs} ms${reason ? ` (${reason})` : ''}; ` +
  'starting degraded (startDegraded: true), ioredis keeps reconnecting.';

export const SHARDED_PUBSUB_UNSUPPORTED = (name: string, target: string): string =>
  `Redis connection "${name}" (${target}): the Cluster runs Redis < 7, which has no sharded pub/sub; cache ` +
  'invalidations and lock wake-ups use classic pub/sub (set cluster.shardedPubSub: false to say so).';

export const CONNECTION_CLOSE_FAILED = (name: string, reason: string): string =>
  `Redis connection "${name}" did not close gracefully (${reason}); disconnected it.`;
