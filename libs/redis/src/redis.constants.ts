/** Name of the connection used when none is given (`@InjectRedis()`). */
export const DEFAULT_REDIS_CONNECTION = 'default';

/** Injection token of the validated, normalised module options ({@link ResolvedRedisOptions}). */
export const REDIS_RESOLVED_OPTIONS = '@localcloudlab/nest-redis:resolved-options';

/** Internal: the connection names the module provides tokens for (validated against the options at startup). */
export const REDIS_CONNECTION_NAMES = '@localcloudlab/nest-redis:connection-names';

/**
 * Injection token of a Redis connection.
 *
 * @param name connection name from `connections`; the main connection when omitted
 * @example
 * ```ts
 * moduleRef.get<Redis>(getRedisConnectionToken('analytics'));
 * ```
 */
export function getRedisConnectionToken(name: string = DEFAULT_REDIS_CONNECTION): string {
  return `@localcloudlab/nest-redis:connection:${name}`;
}
