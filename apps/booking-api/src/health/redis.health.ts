import { Injectable } from '@nestjs/common';
import { InjectRedis, type RedisClient } from '@app/redis';
import type { HealthIndicatorResult, HealthIndicatorStatus } from './health-check.interface.js';
import { REDIS_NOT_READY, REDIS_PING_FAILED, REDIS_PING_TIMED_OUT } from './health.messages.js';

/**
 * How long a health check waits for `PING`: well under the orchestrator's probe timeout, so a stalled Redis shows
 * up as `down` rather than as a probe that hangs.
 */
export const REDIS_PING_TIMEOUT_MS = 1_000;

/**
 * Reports whether the app's Redis connection answers. A connection that is not `ready` is reported down without
 * sending anything: ioredis would queue the `PING` until it reconnects, and every probe would add one more.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(@InjectRedis() private readonly redis: RedisClient) {}

  /**
   * @param key the key the result is reported under
   * @param timeoutMs how long to wait for `PING`
   * @default timeoutMs REDIS_PING_TIMEOUT_MS
   */
  async check<const Key extends string>(
    key: Key,
    timeoutMs = REDIS_PING_TIMEOUT_MS,
  ): Promise<HealthIndicatorResult<Key>> {
    const result = (status: HealthIndicatorStatus) => ({ [key]: status }) as HealthIndicatorResult<Key>;
    if (this.redis.status !== 'ready') return result({ status: 'down', message: REDIS_NOT_READY(this.redis.status) });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const answer = await Promise.race([this.redis.ping(), timedOut]);
      if (answer === 'timeout') return result({ status: 'down', message: REDIS_PING_TIMED_OUT(timeoutMs) });
      return result({ status: 'up' });
    } catch (error) {
      return result({ status: 'down', message: REDIS_PING_FAILED(failureReason(error)) });
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The Redis error code (`NOAUTH`, `LOADING`, …) or the error's class name. The driver's full message is not
 * echoed: connection errors carry the server's address.
 */
function failureReason(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  return /^[A-Z]{2,}\b/.exec(error.message)?.[0] ?? error.name;
}
