import type { IncomingMessage } from 'node:http';
import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { LockHealthIndicator, RedisHealthIndicator, RedisTransportHealthIndicator } from '@app/redis/health';
import type { RedisTransportClient } from '@app/redis/transport';
import { publicHealth } from '../../../booking-management/src/index.js';
import { BOOKING_EVENTS_CLIENT } from '../bookings/booking-events.publisher.js';
import { DatabaseHealthIndicator } from '../database/database.health.js';

/** Round trip allowed to each dependency before the replica stops taking traffic. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Probes for the orchestrator: `/health/live` says the process answers (restart it if not), `/health/ready` says
 * its dependencies answer: Redis, the lock quorum (the main connection while locks run on a single node), the
 * database, and the transport client that carries booking events (connected by the probe if no booking was made
 * yet). Send it traffic only then; 503 otherwise. `/health` is `ready`. On the public port the body is `{ status }`
 * alone (kubelet reads the status code); the terminus details (Redis role and memory, the database engine) answer
 * on the management port only.
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
  live(@Req() request: IncomingMessage): Promise<Partial<HealthCheckResult>> {
    return publicHealth(request, () => this.health.check([]));
  }

  @Get(['ready', ''])
  @HealthCheck()
  ready(@Req() request: IncomingMessage): Promise<Partial<HealthCheckResult>> {
    return publicHealth(request, () =>
      this.health.check([
        () => this.redis.isHealthy('redis', { timeout: PROBE_TIMEOUT_MS }),
        () => this.lock.isHealthy('lock', { timeout: PROBE_TIMEOUT_MS }),
        () => this.database.isHealthy('database', { timeout: PROBE_TIMEOUT_MS }),
        () => this.transport.isHealthy('transport', this.events, { timeout: PROBE_TIMEOUT_MS }),
      ]),
    );
  }
}
