import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Observable } from 'rxjs';
import type { RedisStreamInfo } from '../transport/streams/redis-streams.info.js';
import { bounded, connectFailure, hasDegradedStatus, safeMessage } from './probe-helpers.js';
import type { RedisTransportHealthCheckOptions } from './redis-transport-health-options.interface.js';

/** @default 1000 */
const DEFAULT_TIMEOUT_MS = 1_000;
/** @default 300000 */
const DEFAULT_DEAD_LETTER_WINDOW_MS = 300_000;
/** Samples kept per dead-letter stream: enough for a probe every second over the window, bounded whatever the rate. */
const MAX_SAMPLES = 1_024;

/** A dead-letter stream's length as one probe saw it. */
interface DeadLetterSample {
  at: number;
  length: number;
}

/** What the indicator reads from a `RedisTransportServer`. */
interface TransportServerLike {
  readonly status: Observable<string>;
  readonly mode: 'pubsub' | 'streams';
  streamsInfo(): Promise<RedisStreamInfo[]>;
}

/** What the indicator reads from a `RedisTransportClient`. */
interface TransportClientLike {
  readonly status: Observable<string>;
  readonly mode: 'pubsub' | 'streams';
  connect(): Promise<void>;
}

type Verdict = { status: 'up' } | { status: 'degraded' | 'down'; message: string };

/** One stream's backlog, with the dead letters added within the window when a windowed threshold is set. */
type StreamState = RedisStreamInfo & { recentDeadLetters?: number };

/** The latest status the transport pushed (its status stream replays the last one), if any. */
function currentStatus(transport: { readonly status: Observable<string> }): string | undefined {
  let status: string | undefined;
  transport.status.subscribe((value) => (status = value)).unsubscribe();
  return status;
}

/**
 * Terminus health indicator for the Redis transport. A `RedisTransportServer` is up while its connections are
 * connected; in streams mode it also reads, per consumed stream and for its group, the pending entries, the
 * dead-letter stream's length and the lag, and is down over `maxPending`, `maxDeadLetters`, `maxRecentDeadLetters`
 * or `maxLag`, `degraded` over `warnLag` or `warnRecentDeadLetters`. The recent dead letters are those added within
 * `deadLetterWindow`, measured from the growth of each dead-letter stream between this indicator's probes: a
 * readiness check on a rate, which a burst of junk entries raises for one window at most, where the total
 * (`maxDeadLetters`) stays over its limit until an operator trims the stream. A `RedisTransportClient` is up while connected; one that never connected (clients connect on
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
  /** Dead-letter stream key → its lengths as the probes of the last window saw them, oldest first. */
  private readonly deadLetterSamples = new Map<string, DeadLetterSample[]>();

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
    const mode = transport.mode;
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

    let streams: StreamState[];
    try {
      streams = await bounded(transport.streamsInfo(), timeout, `Redis did not answer within ${timeout} ms`);
    } catch (error) {
      return indicator.down({ mode, message: safeMessage(error) });
    }
    if (options.maxRecentDeadLetters !== undefined || options.warnRecentDeadLetters !== undefined) {
      const window = options.deadLetterWindow ?? DEFAULT_DEAD_LETTER_WINDOW_MS;
      const now = Date.now();
      streams = streams.map((info) => ({ ...info, recentDeadLetters: this.recentDeadLetters(info, window, now) }));
    }
    const details = {
      mode,
      connection: status,
      streams: Object.fromEntries(
        streams.map(({ pattern, stream, group, deadLetterStream, pending, deadLetters, lag, recentDeadLetters }) => [
          pattern,
          {
            stream,
            group,
            deadLetterStream,
            pending,
            deadLetters,
            ...(recentDeadLetters === undefined ? {} : { recentDeadLetters }),
            lag,
          },
        ]),
      ),
    };
    const verdict = judge(streams, options);
    if (verdict.status === 'up') return indicator.up(details);
    if (verdict.status === 'down') return indicator.down({ ...details, message: verdict.message });
    // terminus 11 has no degraded status: there the transport still serves, so it reports up with the message.
    return hasDegradedStatus(indicator)
      ? indicator.degraded({ ...details, message: verdict.message })
      : indicator.up({ ...details, message: verdict.message });
  }

  /**
   * How much the dead-letter stream grew since the oldest probe within `windowMs`, after recording this probe's
   * length. A stream that shrank (trimmed or deleted by an operator) starts over from its new length.
   */
  private recentDeadLetters(info: RedisStreamInfo, windowMs: number, now: number): number {
    let samples = this.deadLetterSamples.get(info.deadLetterStream);
    if (!samples || (samples.length > 0 && info.deadLetters < samples[samples.length - 1]!.length)) {
      samples = [];
      this.deadLetterSamples.set(info.deadLetterStream, samples);
    }
    samples.push({ at: now, length: info.deadLetters });
    let stale = 0;
    // Keep one sample at or before the window's start, so the growth covers the whole window.
    while (stale + 1 < samples.length && samples[stale + 1]!.at <= now - windowMs) stale++;
    if (samples.length - stale > MAX_SAMPLES) stale = samples.length - MAX_SAMPLES;
    if (stale > 0) samples.splice(0, stale);
    return info.deadLetters - samples[0]!.length;
  }
}

/** The worst threshold crossed by any stream: down over a `max*`, degraded over `warnLag`. */
function judge(streams: StreamState[], options: RedisTransportHealthCheckOptions): Verdict {
  const { maxPending, maxDeadLetters, maxLag, warnLag, maxRecentDeadLetters, warnRecentDeadLetters } = options;
  const window = `${Math.round((options.deadLetterWindow ?? DEFAULT_DEAD_LETTER_WINDOW_MS) / 1_000)} s`;
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const { pattern, group, pending, deadLetters, lag, recentDeadLetters: recent } of streams) {
    const where = `"${pattern}" (group ${group})`;
    if (maxPending !== undefined && pending > maxPending) {
      problems.push(`${pending} pending entries on ${where} are over maxPending ${maxPending}`);
    }
    if (maxDeadLetters !== undefined && deadLetters > maxDeadLetters) {
      problems.push(`${deadLetters} dead letters of ${where} are over maxDeadLetters ${maxDeadLetters}`);
    }
    if (recent !== undefined && maxRecentDeadLetters !== undefined && recent > maxRecentDeadLetters) {
      problems.push(
        `${recent} entries of ${where} dead-lettered in the last ${window}, over maxRecentDeadLetters ${maxRecentDeadLetters}`,
      );
    } else if (recent !== undefined && warnRecentDeadLetters !== undefined && recent > warnRecentDeadLetters) {
      warnings.push(
        `${recent} entries of ${where} dead-lettered in the last ${window}, over warnRecentDeadLetters ${warnRecentDeadLetters}`,
      );
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
