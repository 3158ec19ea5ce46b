import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { cacheExports, cacheManagerAliasModule, cacheProviders } from './cache/cache.providers.js';
import { MethodDecoratorExplorer } from './method-decorators/method-decorator.explorer.js';
import { RedisConnectionsRegistry } from './connection/redis-connections.registry.js';
import { RedisKeyspace } from './keyspace/redis-keyspace.js';
import { RedisInstrumentation } from './instrumentation/redis-instrumentation.js';
import { LockService } from './lock/lock.service.js';
import { LockAspect } from './lock/lock.aspect.js';
import type { RedisModuleOptions } from './module-options/redis-module-options.interface.js';
import { resolveRedisOptions } from './module-options/resolve-redis-options.js';
import {
  DEFAULT_REDIS_CONNECTION,
  getRedisConnectionToken,
  REDIS_CONNECTION_NAMES,
  REDIS_RESOLVED_OPTIONS,
} from './redis.constants.js';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
  REDIS_MODULE_OPTIONS,
} from './redis.module-definition.js';

const coreProviders: Provider[] = [
  {
    provide: REDIS_RESOLVED_OPTIONS,
    useFactory: (raw: RedisModuleOptions) => resolveRedisOptions(raw),
    inject: [REDIS_MODULE_OPTIONS],
  },
  RedisInstrumentation,
  RedisConnectionsRegistry,
  RedisKeyspace,
  LockService,
];

function connectionProviders(names: string[]): Provider[] {
  return names.map((name) => ({
    provide: getRedisConnectionToken(name),
    useFactory: (registry: RedisConnectionsRegistry) => registry.connect(name),
    inject: [RedisConnectionsRegistry],
  }));
}

function withConnections(definition: DynamicModule, requested: string[]): DynamicModule {
  const names = [...new Set([DEFAULT_REDIS_CONNECTION, ...requested])];
  const connections = connectionProviders(names);
  const exported = [...coreProviders.slice(1), ...connections.map((p) => (p as { provide: string }).provide)];
  return {
    ...definition,
    imports: [
      ...(definition.imports ?? []),
      DiscoveryModule,
      ...(definition.global ? [cacheManagerAliasModule()] : []),
    ],
    providers: [
      ...(definition.providers ?? []),
      ...coreProviders,
      { provide: REDIS_CONNECTION_NAMES, useValue: names },
      ...connections,
      MethodDecoratorExplorer,
      ...cacheProviders,
      LockAspect,
    ],
    exports: [...(definition.exports ?? []), REDIS_RESOLVED_OPTIONS, ...exported, ...cacheExports],
  };
}

/**
 * Connects a Nest application to Redis (single node, Sentinel or Cluster) and provides the clients and the
 * library's services. Global by default.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [RedisModule.forRoot({ url: 'redis://127.0.0.1:6379', keyPrefix: 'booking:' })],
 * })
 * export class AppModule {}
 * ```
 * @example
 * ```ts
 * RedisModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ url: config.getOrThrow('REDIS_URL'), keyPrefix: 'booking:' }),
 * })
 * ```
 */
@Module({})
export class RedisModule extends ConfigurableModuleClass {
  /** Configures the module with static options; named connections come from `options.connections`. */
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    const names = [...Object.keys(options.connections ?? {}), ...(options.connectionNames ?? [])];
    return withConnections(super.forRoot(options), names);
  }

  /** Configures the module from a factory, class or existing provider; name extra connections in `connectionNames`. */
  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withConnections(super.forRootAsync(options), options.connectionNames ?? []);
  }
}
