import { type DynamicModule, Module } from '@nestjs/common';
import { LEADER_OPTIONS } from './leader.constants.js';
import type { LeaderModuleOptions } from './leader-options.interface.js';
import { LeaderService } from './leader.service.js';
import { resolveLeaderOptions } from './resolve-leader-options.js';

/**
 * Leader election (`LeaderService`) for this process. Import it next to `RedisModule.forRoot` (it uses its lock
 * service: the main connection, or the Redlock nodes). Options are validated when `forRoot` is called
 * (`RedisOptionsError` naming the field).
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     RedisModule.forRoot({ url: process.env.REDIS_URL, keyPrefix: 'booking:' }),
 *     RedisLeaderModule.forRoot({ elections: ['reconciler'], ttl: 5_000 }),
 *   ],
 * })
 * export class WorkerModule {}
 * ```
 */
@Module({})
export class RedisLeaderModule {
  /** @param options elections, lease `ttl` (default 10 s), candidates' poll interval, `autoStart` */
  static forRoot(options: LeaderModuleOptions = {}): DynamicModule {
    // Validated here, when the module tree is declared: a bad option fails before any connection opens.
    const resolved = resolveLeaderOptions(options);
    return {
      module: RedisLeaderModule,
      global: true,
      providers: [{ provide: LEADER_OPTIONS, useValue: resolved }, LeaderService],
      exports: [LeaderService],
    };
  }
}
