import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { RedisHealthIndicator } from '@app/redis/health';

/** Round trip allowed to Redis before the worker reports itself not ready. */
const REDIS_PROBE_TIMEOUT_MS = 1_000;

/**
 * Probes for the orchestrator: `/health/live` says the process answers (restart it if not); `/health/ready` and
 * `/health` answer 200 while the worker's dependencies answer, 503 with the terminus body naming the ones that don't.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get(['ready', ''])
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.redis.isHealthy('redis', { timeout: REDIS_PROBE_TIMEOUT_MS })]);
  }
}
