import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { RedisHealthIndicator } from '@app/redis/health';
import { DatabaseHealthIndicator } from '../database/database.health.js';

/** Round trip allowed to each dependency before the replica stops taking traffic. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Probes for the orchestrator: `/health/live` says the process answers (restart it if not), `/health/ready` says
 * its dependencies (Redis, the database) answer (send it traffic only then; 503 with the terminus body otherwise).
 * `/health` is `ready`.
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly database: DatabaseHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get(['ready', ''])
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.redis.isHealthy('redis', { timeout: PROBE_TIMEOUT_MS }),
      () => this.database.isHealthy('database', { timeout: PROBE_TIMEOUT_MS }),
    ]);
  }
}
