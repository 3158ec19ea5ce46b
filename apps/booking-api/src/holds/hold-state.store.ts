import { Injectable, Logger } from '@nestjs/common';
import { InjectRedis, type RedisClient, RedisKeyspace } from '@app/redis';
import { EXPIRING_HOLDS_KEY } from '../../../booking-contracts/src/index.js';
import type { Hold } from './hold.interface.js';

/** How long a Redis call of the hold state may take; the database answers when Redis does not. */
const STATE_TIMEOUT_MS = 500;

/**
 * The short-lived side of a hold: its record in Redis under `<prefix>hold:<id>` with a ttl equal to the hold's, so
 * it disappears by itself when the hold expires, and its entry in the `holds:expiring` sorted set (scored by
 * expiry), which tells booking-worker's release job when a hold is due. `GET /holds/:id` answers from the record
 * while the hold lives; the database stays the authority on seats (a confirmation re-checks expiry there, under the
 * slot lock). Redis failures are logged and fall back to the database: they never fail a hold, and the job's full
 * pass every tenth tick releases what the sorted set missed.
 */
@Injectable()
export class HoldStateStore {
  private readonly logger = new Logger(HoldStateStore.name);

  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    private readonly keyspace: RedisKeyspace,
  ) {}

  private key(holdId: string): string {
    return this.keyspace.key('hold', holdId);
  }

  private get expiring(): string {
    return this.keyspace.key(EXPIRING_HOLDS_KEY);
  }

  /** Stores a live hold until `hold.expiresAt` (at least 1 ms). */
  async remember(hold: Hold): Promise<void> {
    const ttlMs = Math.max(1, hold.expiresAt.getTime() - Date.now());
    await this.attempt('store', () =>
      this.redis
        .multi()
        .set(this.key(hold.id), JSON.stringify(hold), 'PX', ttlMs)
        .zadd(this.expiring, hold.expiresAt.getTime(), hold.id)
        .exec(),
    );
  }

  /** The live hold, or `undefined` when Redis has none (expired, ended, never stored) or did not answer. */
  async recall(holdId: string): Promise<Hold | undefined> {
    const json = await this.attempt('read', () => this.redis.get(this.key(holdId)));
    if (typeof json !== 'string') return undefined;
    const stored = JSON.parse(json) as Hold & { expiresAt: string; createdAt: string };
    return { ...stored, expiresAt: new Date(stored.expiresAt), createdAt: new Date(stored.createdAt), endedAt: null };
  }

  /** Drops the record of a hold that ended (confirmed or cancelled). */
  async forget(holdId: string): Promise<void> {
    await this.attempt('delete', () => this.redis.multi().del(this.key(holdId)).zrem(this.expiring, holdId).exec());
  }

  private async attempt<T>(what: string, command: () => Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        command(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${STATE_TIMEOUT_MS} ms`)), STATE_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      this.logger.warn(`Hold state ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
