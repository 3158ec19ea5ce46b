import { type DynamicModule, Inject, Module, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { RedisConnectionsRegistry } from '../connection/redis-connections.registry.js';
import type { RateLimitModuleOptions, ResolvedRateLimitOptions } from './rate-limit-options.interface.js';
import { RateLimitScriptRunner } from './rate-limit-script.runner.js';
import { RateLimitAspect } from './rate-limit.aspect.js';
import { RATE_LIMIT_RESOLVED_OPTIONS, RATE_LIMIT_SCRIPT_RUNNER } from './rate-limit.constants.js';
import {
  RATE_LIMIT_MODULE_OPTIONS,
  RATE_LIMIT_OPTIONS_TYPE,
  RateLimitConfigurableModule,
} from './rate-limit.module-definition.js';
import { RateLimiter } from './rate-limiter.service.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';
import { resolveRateLimitOptions } from './resolve-rate-limit-options.js';

const providers: Provider[] = [
  {
    provide: RATE_LIMIT_RESOLVED_OPTIONS,
    useFactory: (raw: RateLimitModuleOptions) => resolveRateLimitOptions(raw),
    inject: [RATE_LIMIT_MODULE_OPTIONS],
  },
  {
    provide: RATE_LIMIT_SCRIPT_RUNNER,
    useFactory: async (options: ResolvedRateLimitOptions, registry: RedisConnectionsRegistry) =>
      new RateLimitScriptRunner(await registry.connect(options.connection), options.shortestTimeout),
    inject: [RATE_LIMIT_RESOLVED_OPTIONS, RedisConnectionsRegistry],
  },
  RateLimiter,
  RedisThrottlerStorage,
  RateLimitAspect,
];

/**
 * Rate limiting on the RedisModule's connection (import `RedisModule` first; its `keyPrefix` applies): provides
 * `RateLimiter` (named limits for any code, and the `@RateLimit` decorator) and `RedisThrottlerStorage` (a storage
 * for `@nestjs/throttler` shared by every replica). Options are validated at startup. Global by default.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     RedisModule.forRoot({ url: process.env.REDIS_URL, keyPrefix: 'booking:' }),
 *     RateLimitModule.forRoot({
 *       limits: { partnerApi: { algorithm: 'token-bucket', burst: 20, rate: 5, failurePolicy: 'fail-closed' } },
 *     }),
 *     ThrottlerModule.forRootAsync({
 *       inject: [RedisThrottlerStorage],
 *       useFactory: (storage: RedisThrottlerStorage) => ({ throttlers: [{ ttl: 60_000, limit: 100 }], storage }),
 *     }),
 *   ],
 *   providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
 * })
 * export class AppModule {}
 * ```
 */
@Module({ providers, exports: [RateLimiter, RedisThrottlerStorage] })
export class RateLimitModule extends RateLimitConfigurableModule implements OnApplicationShutdown {
  constructor(@Inject(RATE_LIMIT_SCRIPT_RUNNER) private readonly runner: RateLimitScriptRunner) {
    super();
  }

  /** Configures the module with static options; every option has a default, so `forRoot()` is enough for the throttler. */
  static override forRoot(options: typeof RATE_LIMIT_OPTIONS_TYPE = {}): DynamicModule {
    // Checked here too, so bad static options fail before any connection is opened.
    const { isGlobal: _isGlobal, ...raw } = options;
    resolveRateLimitOptions(raw);
    return super.forRoot(options);
  }

  /** Fails the decisions still waiting for Redis, so none keeps the process alive. */
  onApplicationShutdown(): void {
    this.runner.close();
  }
}
