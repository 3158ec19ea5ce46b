import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { connectionSecrets } from '../connection/describe-connection.js';
import { RedisConnectionsRegistry } from '../connection/redis-connections.registry.js';
import type { ResolvedRedisCoreOptions } from '../connection/resolved-redis-connection.interface.js';
import { DEFAULT_REDIS_CONNECTION, REDIS_RESOLVED_OPTIONS } from '../redis.constants.js';
import { redactSecrets } from '../utils/redact.js';
import type { RedisHealthCheckOptions } from './redis-health-options.interface.js';
import { probeRedis, ratio, type RedisProbeResult } from './redis-probe.js';
import { settleWithin } from '../utils/settle-within.js';
import { errorText } from '../utils/error-text.js';

/** @default 1000 */
const DEFAULT_TIMEOUT_MS = 1_000;

/**
 * Terminus health indicator for a Redis connection of the module: up with latency, role and memory; down with the
 * reason on timeout, error, latency or memory over threshold, a Cluster whose `cluster_state` is not `ok`, or a
 * Sentinel connection that is not talking to a master. Never includes credentials or addresses.
 *
 * Bounded in time even while ioredis reconnects: a connection that is not ready is reported down at once instead
 * of queueing the probe behind the offline queue.
 *
 * @example
 * ```ts
 * @Module({ imports: [TerminusModule], controllers: [HealthController], providers: [RedisHealthIndicator] })
 * export class HealthModule {}
 *
 * @Get('ready') @HealthCheck()
 * ready() {
 *   return this.health.check([() => this.redis.isHealthy('redis', { maxLatencyMs: 100, maxMemoryRatio: 0.9 })]);
 * }
 * ```
 */
@Injectable()
export class RedisHealthIndicator {
  /** @internal Nest injects the collaborators; list it in your health module's providers, never with `new`. */
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly registry: RedisConnectionsRegistry,
    @Inject(REDIS_RESOLVED_OPTIONS) private readonly options: ResolvedRedisCoreOptions,
  ) {}

  /**
   * @param key the key of this indicator in the health check result (e.g. `'redis'`)
   * @param options which connection and which thresholds
   */
  async isHealthy<const Key extends string>(
    key: Key,
    {
      connection = DEFAULT_REDIS_CONNECTION,
      timeout = DEFAULT_TIMEOUT_MS,
      maxLatencyMs,
      maxMemoryRatio,
    }: RedisHealthCheckOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const resolved = this.options.connections.get(connection);
    if (!resolved) return indicator.down({ message: `Redis connection "${connection}" is not configured` });
    const client = await this.registry.connect(connection);
    if (client.status !== 'ready') {
      return indicator.down({ message: `Redis connection "${connection}" is not ready (${client.status})` });
    }

    let probe: RedisProbeResult;
    try {
      probe = await settleWithin(
        probeRedis(client),
        timeout,
        () => new Error(`Redis did not answer within ${timeout} ms`),
      );
    } catch (error) {
      const message = errorText(error);
      return indicator.down({ message: redactSecrets(message, connectionSecrets(resolved)) });
    }

    const details = {
      latencyMs: Math.round(probe.latencyMs * 100) / 100,
      role: probe.role,
      usedMemory: probe.usedMemory,
      maxMemory: probe.maxMemory,
      ...(probe.clusterState !== undefined && { clusterState: probe.clusterState }),
    };
    const problem = this.findProblem(probe, resolved.kind, { maxLatencyMs, maxMemoryRatio });
    return problem ? indicator.down({ ...details, message: problem }) : indicator.up(details);
  }

  private findProblem(
    probe: RedisProbeResult,
    kind: 'standalone' | 'sentinel' | 'cluster',
    { maxLatencyMs, maxMemoryRatio }: Pick<RedisHealthCheckOptions, 'maxLatencyMs' | 'maxMemoryRatio'>,
  ): string | undefined {
    if (probe.clusterState !== undefined && probe.clusterState !== 'ok') {
      return `cluster_state is ${probe.clusterState}`;
    }
    if (kind === 'sentinel' && probe.role !== 'master') {
      return `the Sentinel connection reaches a ${probe.role}, not the master`;
    }
    if (maxLatencyMs !== undefined && probe.latencyMs > maxLatencyMs) {
      return `latency ${probe.latencyMs.toFixed(1)} ms is over maxLatencyMs ${maxLatencyMs}`;
    }
    const used = ratio(probe);
    if (maxMemoryRatio !== undefined && used > maxMemoryRatio) {
      return `memory ${(used * 100).toFixed(1)}% of maxmemory is over maxMemoryRatio ${maxMemoryRatio}`;
    }
    return undefined;
  }
}
