import { Inject, Injectable, Logger } from '@nestjs/common';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import { errorText } from '../utils/error-text.js';
import { RateLimitedLog } from '../utils/rate-limited-log.js';
import type { ResolvedPolicy, ResolvedRateLimitOptions } from './rate-limit-options.interface.js';
import { RateLimitScriptRunner } from './rate-limit-script.runner.js';
import { RATE_LIMIT_RESOLVED_OPTIONS, RATE_LIMIT_SCRIPT_RUNNER, THROTTLER_NAMESPACE } from './rate-limit.constants.js';
import { RATE_LIMIT_DEGRADED } from './rate-limit.messages.js';
import { THROTTLER_HIT } from './scripts/rate-limit.scripts.js';

/**
 * What `increment` answers: `@nestjs/throttler`'s `ThrottlerStorageRecord`, restated so the library needs no import
 * from that package (not even for types): apps that do not use the throttler need not install it.
 */
export interface ThrottlerStorageRecord {
  /** Hits counted in the current window (the refused one included when over the limit). */
  totalHits: number;
  /** Seconds until the window ends, rounded up. */
  timeToExpire: number;
  isBlocked: boolean;
  /** Seconds until the block ends, rounded up; 0 when not blocked. */
  timeToBlockExpire: number;
}

/** The throttler reports times in whole seconds, rounded up, as its in-memory storage does. */
const toSeconds = (ms: number): number => (ms > 0 ? Math.ceil(ms / 1000) : 0);

/**
 * A `ThrottlerStorage` for `@nestjs/throttler` on Redis (the same `increment` contract, matched structurally), so every replica counts against the same limits:
 * `ThrottlerModule.forRootAsync({ inject: [RedisThrottlerStorage], useFactory: (storage) => ({ throttlers, storage }) })`.
 *
 * - One Lua script run (one round trip) per hit, atomic, so exact under any concurrency; keys
 *   `<keyPrefix>throttler:{<key>}:<throttlerName>` and `…:block` share a hash tag (one Cluster slot per counter).
 * - Same contract and units as the in-memory `ThrottlerStorageService`: `ttl` and `blockDuration` in ms,
 *   `timeToExpire` and `timeToBlockExpire` in seconds rounded up; a hit over the limit blocks the key for
 *   `blockDuration` (hits then refused and not counted), the first hit after the block starts a fresh count. One
 *   difference: hits are counted per fixed window of `ttl` from the first hit, where the in-memory storage expires
 *   each hit `ttl` after it was made.
 * - Redis down or slower than `throttler.commandTimeout`: `fail-open` answers "not blocked" (logged, rate-limited),
 *   `fail-closed` answers "blocked" for one `ttl`, so the guard replies 429 with `Retry-After` instead of 500.
 */
@Injectable()
export class RedisThrottlerStorage {
  private readonly logger = new Logger(RedisThrottlerStorage.name);
  private readonly degradedLog = new RateLimitedLog(this.logger);
  private readonly keyPrefix: string;
  private readonly policy: ResolvedPolicy;

  constructor(
    @Inject(RATE_LIMIT_RESOLVED_OPTIONS) options: ResolvedRateLimitOptions,
    @Inject(RATE_LIMIT_SCRIPT_RUNNER) private readonly runner: RateLimitScriptRunner,
    keyspace: RedisKeyspace,
    private readonly instrumentation: RedisInstrumentation,
  ) {
    this.policy = options.throttler;
    this.keyPrefix = keyspace.key(THROTTLER_NAMESPACE, '');
  }

  /** The Redis key of a throttler counter; its block marker is this key + `:block`. */
  redisKey(key: string, throttlerName: string): string {
    return `${this.keyPrefix}{${key}}:${throttlerName}`;
  }

  /**
   * Records one hit of `key` for the named throttler.
   * @param ttl window length in ms
   * @param limit hits allowed per window
   * @param blockDuration how long, in ms, a key that went over the limit stays blocked (<= 0: no block, hits over
   *   the limit are refused until the window ends)
   */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const counter = this.redisKey(key, throttlerName);
    let reply: number[];
    try {
      reply = (await this.runner.run(
        THROTTLER_HIT,
        [counter, `${counter}:block`],
        [Math.max(1, Math.ceil(ttl)), limit, Math.ceil(blockDuration)],
        this.policy.commandTimeout,
      )) as number[];
    } catch (error) {
      return this.degraded(ttl, limit, throttlerName, error);
    }
    const isBlocked = reply[2] === 1;
    this.instrumentation.emit('rate-limit.decision', {
      limit: throttlerName,
      kind: 'throttler',
      allowed: !isBlocked,
      degraded: false,
    });
    return {
      totalHits: reply[0],
      timeToExpire: toSeconds(reply[1]),
      isBlocked,
      timeToBlockExpire: isBlocked ? toSeconds(reply[3]) : 0,
    };
  }

  private degraded(ttl: number, limit: number, throttlerName: string, error: unknown): ThrottlerStorageRecord {
    const { failurePolicy } = this.policy;
    this.degradedLog.warn(RATE_LIMIT_DEGRADED(`throttler:${throttlerName}`, errorText(error), failurePolicy));
    const isBlocked = failurePolicy === 'fail-closed';
    this.instrumentation.emit('rate-limit.decision', {
      limit: throttlerName,
      kind: 'throttler',
      allowed: !isBlocked,
      degraded: true,
    });
    const seconds = toSeconds(ttl);
    return isBlocked
      ? { totalHits: limit + 1, timeToExpire: seconds, isBlocked, timeToBlockExpire: seconds }
      : { totalHits: 0, timeToExpire: seconds, isBlocked, timeToBlockExpire: 0 };
  }
}
