import { Global, Module } from '@nestjs/common';
import { ClusterTicks } from './cluster-ticks.js';
import { CRON_TIME, loadCronTime } from './cron.loader.js';
import { OncePerClusterAspect } from './once-per-cluster.aspect.js';

/**
 * Provides the aspect behind `@OncePerCluster` and `ClusterTicks`. Import it next to `RedisModule.forRoot` and
 * `ScheduleModule.forRoot()` from `@nestjs/schedule` (an optional peer dependency of this package).
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     RedisModule.forRoot({ url: process.env.REDIS_URL, keyPrefix: 'booking:' }),
 *     ScheduleModule.forRoot(),
 *     RedisScheduleModule,
 *   ],
 *   providers: [HoldsReaper],
 * })
 * export class WorkerModule {}
 * ```
 */
@Global()
@Module({
  providers: [OncePerClusterAspect, ClusterTicks, { provide: CRON_TIME, useFactory: loadCronTime }],
  exports: [ClusterTicks],
})
export class RedisScheduleModule {}
