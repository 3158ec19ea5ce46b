import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import type { HealthCheckResult } from './health-check.interface.js';
import { RedisHealthIndicator } from './redis.health.js';

/** `GET /health`: 200 when every dependency answers, 503 naming the ones that do not. */
@Controller('health')
export class HealthController {
  constructor(private readonly redis: RedisHealthIndicator) {}

  @Get()
  async check(): Promise<HealthCheckResult> {
    const redis = await this.redis.check('redis');
    if (redis.redis.status === 'up') return { status: 'ok', info: redis };
    // Nest sends an object given to an HttpException as the response body unchanged.
    throw new ServiceUnavailableException({ status: 'error', error: redis } satisfies HealthCheckResult);
  }
}
