/** Name of the connection used when none is given (`@InjectRedis()`). */
export const DEFAULT_REDIS_CONNECTION = 'default';

/** Internal: injection token of the validated, normalised module options (`ResolvedRedisOptions`). */
export const REDIS_RESOLVED_OPTIONS = '@localcloudlab/nest-redis:resolved-options';

/**
 * Injection token of the application's `RedisModule` settings ({@link RedisModuleSettings}), for the transport's
 * `moduleOptions` when a `RedisTransportClient` or `RedisTransportServer` is built in a provider.
 *
 * @example
 * ```ts
 * ClientsModule.registerAsync([
 *   {
 *     name: 'EVENTS',
 *     inject: [REDIS_MODULE_SETTINGS],
 *     useFactory: (moduleOptions: RedisModuleSettings) => ({
 *       customClass: RedisTransportClient,
 *       options: { moduleOptions, mode: 'streams' },
 *     }),
 *   },
 * ]);
 * ```
 */
export const REDIS_MODULE_SETTINGS: string = REDIS_RESOLVED_OPTIONS;

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
