import type { IncomingMessage } from 'node:http';
import { Controller, Get, Req } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { RedisHealthIndicator, RedisTransportHealthIndicator } from '@app/redis/health';
import { RedisTransportServer } from '@app/redis/transport';
import { publicHealth } from '../../../booking-management/src/index.js';

/** Round trip allowed to Redis before the worker reports itself not ready. */
const REDIS_PROBE_TIMEOUT_MS = 1_000;

/**
 * Backlog limits of the booking-event streams. Over `maxPending` handlers are stuck (each replica holds at most its
 * concurrency, 16 per stream): not ready. Over `warnLag` the workers fall behind, and over `warnRecentDeadLetters`
 * entries were dead-lettered within `deadLetterWindow`: degraded, still ready. Dead letters never make the worker
 * unready: anyone who can `XADD` junk could take every replica out of rotation, and an unready worker handles no
 * fewer bad entries; they are an operator's alert (`nest_redis_transport_messages_handled_total{outcome="dead-lettered"}`),
 * and once dead-lettered are no one's backlog. A rate, not the total, so the degraded state clears by itself.
 */
const STREAM_LIMITS = {
  maxPending: 1_000,
  warnLag: 1_000,
  warnRecentDeadLetters: 10,
  deadLetterWindow: 5 * 60_000,
} as const;

/**
 * Probes for the orchestrator: `/health/live` says the process answers (restart it if not); `/health/ready` and
 * `/health` answer 200 while Redis answers and the transport server is connected with its streams under the backlog
 * limits, 503 otherwise. The public port answers `{ status }` alone; the terminus body naming what is down, with
 * Redis role and memory and the streams' backlogs, answers on the management port only.
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
  live(@Req() request: IncomingMessage): Promise<Partial<HealthCheckResult>> {
    return publicHealth(request, () => this.health.check([]));
  }

  @Get(['ready', ''])
  @HealthCheck()
  check(@Req() request: IncomingMessage): Promise<Partial<HealthCheckResult>> {
    return publicHealth(request, () =>
      this.health.check([
        () => this.redis.isHealthy('redis', { timeout: REDIS_PROBE_TIMEOUT_MS }),
        () => this.transport.isHealthy('transport', this.server, { timeout: REDIS_PROBE_TIMEOUT_MS, ...STREAM_LIMITS }),
      ]),
    );
  }
}
