import { Global, Module } from '@nestjs/common';
import { SemaphoreAspect } from './semaphore.aspect.js';
import { SemaphoreService } from './semaphore.service.js';

/**
 * Provides `SemaphoreService` and the aspect behind `@WithSemaphore`. Import it next to `RedisModule.forRoot`
 * (which it uses: the main connection, the key prefix and the `lock` defaults). Global, like `RedisModule`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [RedisModule.forRoot({ url: process.env.REDIS_URL, keyPrefix: 'booking:' }), RedisSemaphoreModule],
 * })
 * export class AppModule {}
 * ```
 */
@Global()
@Module({ providers: [SemaphoreService, SemaphoreAspect], exports: [SemaphoreService] })
export class RedisSemaphoreModule {}
