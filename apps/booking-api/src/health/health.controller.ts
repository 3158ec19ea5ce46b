import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { LockHealthIndicator, RedisHealthIndicator, RedisTransportHealthIndicator } from '@app/redis/health';
import type { RedisTransportClient } from '@app/redis/transport';
import { BOOKING_EVENTS_CLIENT } from '../bookings/booking-events.publisher.js';
import { DatabaseHealthIndicator } from '../database/database.health.js';

/** Round trip allowed to each dependency before the replica stops taking traffic. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Probes for the orchestrator: `/health/live` says the process answers (restart it if not), `/health/ready` says
 * its dependencies answer: Redis, the lock quorum (the main connection while locks run on a single node), the
 * database, and the transport client that carries booking events (connected by the probe if no booking was made
 * yet). Send it traffic only then; 503 with the terminus body otherwise. `/health` is `ready`.
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly lock: LockHealthIndicator,
    private readonly database: DatabaseHealthIndicator,
    private readonly transport: RedisTransportHealthIndicator,
    @Inject(BOOKING_EVENTS_CLIENT) private readonly events: RedisTransportClient,
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
      () => this.lock.isHealthy('lock', { timeout: PROBE_TIMEOUT_MS }),
      () => this.database.isHealthy('database', { timeout: PROBE_TIMEOUT_MS }),
      () => this.transport.isHealthy('transport', this.events, { timeout: PROBE_TIMEOUT_MS }),
    ]);
  }
}
