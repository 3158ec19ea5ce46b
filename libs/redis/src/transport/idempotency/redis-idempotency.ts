import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { IdempotencyInProgressError } from '../../errors/idempotency-in-progress.error.js';
import { fail, optionalObject, rejectUnknownKeys } from '../../options/option-checks.js';
import type { RedisStreamsContext } from '../streams/redis-streams.context.js';

/** Options of {@link RedisIdempotency}. Durations in milliseconds. */
export interface RedisIdempotencyOptions {
  /**
   * Prefix of the markers' keys; put your module's `keyPrefix` in front (`keyspace.key('idempotency')`).
   * @default 'idempotency:'
   */
  keyPrefix?: string;
  /**
   * How long a key is remembered as done. Redeliveries happen within minutes; keep it above your longest outage.
   * @default 86400000 (24 h)
   */
  ttl?: number;
  /**
   * How long a key stays "in progress" if the process dies while handling it; after that another consumer may run
   * it. Keep it above your handler's longest run.
   * @default 60000
   */
  lockTtl?: number;
}

/** The outcome of {@link RedisIdempotency.once}. */
export type IdempotentResult<T> = { skipped: true } | { skipped: false; result: T };

const DONE = 'done';
const RUNNING = 'running';

/**
 * Makes an at-least-once handler effectively once: `once(key, work)` runs `work` unless a previous run for the same
 * key succeeded within `ttl`. Dedupe by stream entry (pass the `RedisStreamsContext`) or by a business key
 * (`booking:42:created`), which also catches the same event emitted twice.
 *
 * A run in progress elsewhere makes `once` throw `IdempotencyInProgressError`, so the streams server retries the
 * entry later instead of acknowledging work that may never finish. A failed run releases the key.
 *
 * @example
 * ```ts
 * @EventPattern('booking.created')
 * async onCreated(@Payload() booking: Booking, @Ctx() ctx: RedisStreamsContext) {
 *   await this.idempotency.once(`booking:${booking.id}:created`, () => this.mailer.confirm(booking));
 * }
 * ```
 */
export class RedisIdempotency {
  private readonly keyPrefix: string;
  private readonly ttl: number;
  private readonly lockTtl: number;

  /**
   * @param client the Redis connection to keep markers on (`@InjectRedis()`)
   * @throws RedisOptionsError naming the offending field
   */
  constructor(
    private readonly client: RedisClient,
    options: RedisIdempotencyOptions = {},
  ) {
    const raw = optionalObject(options, '(idempotency options)') ?? {};
    rejectUnknownKeys(raw, ['keyPrefix', 'ttl', 'lockTtl'], '');
    if (raw.keyPrefix !== undefined && typeof raw.keyPrefix !== 'string') fail('keyPrefix', 'a string', raw.keyPrefix);
    for (const name of ['ttl', 'lockTtl'] as const) {
      const value = raw[name];
      if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
        fail(name, 'a positive integer number of milliseconds', value);
      }
    }
    this.keyPrefix = (raw.keyPrefix as string | undefined) ?? 'idempotency:';
    this.ttl = (raw.ttl as number | undefined) ?? 86_400_000;
    this.lockTtl = (raw.lockTtl as number | undefined) ?? 60_000;
  }

  /** The Redis key of a marker. */
  keyOf(key: string | RedisStreamsContext): string {
    const name = typeof key === 'string' ? key : `entry:${key.getStream()}:${key.getId()}`;
    return this.keyPrefix + name;
  }

  /**
   * Runs `work` once per key.
   *
   * @param key a business key, or the streams context (dedupe by stream and entry id)
   * @throws IdempotencyInProgressError when another run for the key is in progress; whatever `work` throws
   */
  async once<T>(key: string | RedisStreamsContext, work: () => Promise<T> | T): Promise<IdempotentResult<T>> {
    const redisKey = this.keyOf(key);
    const claimed = await this.client.set(redisKey, RUNNING, 'PX', this.lockTtl, 'NX');
    if (claimed !== 'OK') {
      const state = await this.client.get(redisKey);
      if (state === DONE) return { skipped: true };
      if (state === null) return this.once(key, work);
      throw new IdempotencyInProgressError(`"${redisKey}" is being processed by another consumer.`, redisKey);
    }
    let result: T;
    try {
      result = await work();
    } catch (error) {
      await this.client.del(redisKey).catch(() => undefined);
      throw error;
    }
    await this.client.set(redisKey, DONE, 'PX', this.ttl);
    return { skipped: false, result };
  }

  /** Forgets a key, so the next `once` runs again. */
  async forget(key: string | RedisStreamsContext): Promise<void> {
    await this.client.del(this.keyOf(key));
  }
}
