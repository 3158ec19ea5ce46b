import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { RedisHealthIndicator, RedisTransportHealthIndicator } from '@app/redis/health';
import { RedisTransportServer } from '@app/redis/transport';

/** Round trip allowed to Redis before the worker reports itself not ready. */
const REDIS_PROBE_TIMEOUT_MS = 1_000;

/**
 * Backlog limits of the booking-event streams. Over `maxPending` handlers are stuck (each replica holds at most its
 * concurrency, 16 per stream); over `maxDeadLetters` events need an operator; over `warnLag` the workers fall
 * behind (degraded, still ready).
 */
const STREAM_LIMITS = { maxPending: 1_000, maxDeadLetters: 100, warnLag: 1_000 } as const;

/**
 * Probes for the orchestrator: `/health/live` says the process answers (restart it if not); `/health/ready` and
 * `/health` answer 200 while Redis answers and the transport server is connected with its streams under the backlog
 * limits, 503 with the terminus body naming what is not.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly transport: RedisTransportHealthIndicator,
    private readonly server: RedisTransportServer,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get(['ready', ''])
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.redis.isHealthy('redis', { timeout: REDIS_PROBE_TIMEOUT_MS }),
      () => this.transport.isHealthy('transport', this.server, { timeout: REDIS_PROBE_TIMEOUT_MS, ...STREAM_LIMITS }),
    ]);
  }
}
