import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Observable } from 'rxjs';
import type { RedisStreamInfo } from '../transport/streams/redis-streams.info.js';
import { bounded, connectFailure, safeMessage } from './probe-helpers.js';
import type { RedisTransportHealthCheckOptions } from './redis-transport-health-options.interface.js';

/** @default 1000 */
const DEFAULT_TIMEOUT_MS = 1_000;

/** What the indicator reads from a `RedisTransportServer`. */
interface TransportServerLike {
  readonly status: Observable<string>;
  readonly options: { mode: 'pubsub' | 'streams' };
  streamsInfo(): Promise<RedisStreamInfo[]>;
}

/** What the indicator reads from a `RedisTransportClient`. */
interface TransportClientLike {
  readonly status: Observable<string>;
  readonly options: { mode: 'pubsub' | 'streams' };
  connect(): Promise<void>;
}

type Verdict = { status: 'up' } | { status: 'degraded' | 'down'; message: string };

/** The latest status the transport pushed (its status stream replays the last one), if any. */
function currentStatus(transport: { readonly status: Observable<string> }): string | undefined {
  let status: string | undefined;
  transport.status.subscribe((value) => (status = value)).unsubscribe();
  return status;
}

/**
 * Terminus health indicator for the Redis transport. A `RedisTransportServer` is up while its connections are
 * connected; in streams mode it also reads, per consumed stream and for its group, the pending entries, the
 * dead-letter stream's length and the lag, and is down over `maxPending`, `maxDeadLetters` or `maxLag`, `degraded`
 * over `warnLag`. A `RedisTransportClient` is up while connected; one that never connected (clients connect on
 * first use) or was disconnected is connected by the probe, within `timeout`.
 *
 * Bounded in time, and never waits behind a reconnection: a transport that is not connected is down at once.
 * The output holds stream keys and counts, never addresses or credentials.
 *
 * @example
 * ```ts
 * @Get('ready') @HealthCheck()
 * ready() {
 *   return this.health.check([
 *     () => this.transport.isHealthy('transport', this.server, { maxPending: 1_000, maxDeadLetters: 0, warnLag: 500 }),
 *   ]);
 * }
 * ```
 */
@Injectable()
export class RedisTransportHealthIndicator {
  constructor(private readonly health: HealthIndicatorService) {}

  /**
   * @param key the key of this indicator in the health check result (e.g. `'transport'`)
   * @param transport the `RedisTransportServer` or `RedisTransportClient` to check
   * @param options timeout and backlog thresholds
   */
  async isHealthy<const Key extends string>(
    key: Key,
    transport: TransportServerLike | TransportClientLike,
    options: RedisTransportHealthCheckOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    const mode = transport.options.mode;
    const isServer = 'streamsInfo' in transport;
    let status = currentStatus(transport);

    if (!isServer && (status === undefined || status === 'disconnected')) {
      try {
        await bounded(transport.connect(), timeout, `the transport client did not connect within ${timeout} ms`);
      } catch (error) {
        return indicator.down({ mode, message: `the transport client could not connect: ${connectFailure(error)}` });
      }
      status = currentStatus(transport);
    }
    if (status !== 'connected') {
      const message = status === undefined ? 'the transport server is not listening' : `the transport is ${status}`;
      return indicator.down({ mode, message });
    }
    if (!isServer || mode !== 'streams') return indicator.up({ mode, connection: status });

    let streams: RedisStreamInfo[];
    try {
      streams = await bounded(transport.streamsInfo(), timeout, `Redis did not answer within ${timeout} ms`);
    } catch (error) {
      return indicator.down({ mode, message: safeMessage(error) });
    }
    const details = {
      mode,
      connection: status,
      streams: Object.fromEntries(
        streams.map(({ pattern, stream, group, deadLetterStream, pending, deadLetters, lag }) => [
          pattern,
          { stream, group, deadLetterStream, pending, deadLetters, lag },
        ]),
      ),
    };
    const verdict = judge(streams, options);
    if (verdict.status === 'up') return indicator.up(details);
    return verdict.status === 'down'
      ? indicator.down({ ...details, message: verdict.message })
      : indicator.degraded({ ...details, message: verdict.message });
  }
}

/** The worst threshold crossed by any stream: down over a `max*`, degraded over `warnLag`. */
function judge(streams: RedisStreamInfo[], options: RedisTransportHealthCheckOptions): Verdict {
  const { maxPending, maxDeadLetters, maxLag, warnLag } = options;
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const { pattern, group, pending, deadLetters, lag } of streams) {
    const where = `"${pattern}" (group ${group})`;
    if (maxPending !== undefined && pending > maxPending) {
      problems.push(`${pending} pending entries on ${where} are over maxPending ${maxPending}`);
    }
    if (maxDeadLetters !== undefined && deadLetters > maxDeadLetters) {
      problems.push(`${deadLetters} dead letters of ${where} are over maxDeadLetters ${maxDeadLetters}`);
    }
    if (lag !== null && maxLag !== undefined && lag > maxLag) {
      problems.push(`lag ${lag} of ${where} is over maxLag ${maxLag}`);
    } else if (lag !== null && warnLag !== undefined && lag > warnLag) {
      warnings.push(`lag ${lag} of ${where} is over warnLag ${warnLag}`);
    }
  }
  if (problems.length > 0) return { status: 'down', message: problems.join('; ') };
  if (warnings.length > 0) return { status: 'degraded', message: warnings.join('; ') };
  return { status: 'up' };
}
