import { Injectable } from '@nestjs/common';
import { InjectRedis, type RedisClient, RedisKeyspace } from '@app/redis';
import { EXPIRING_HOLDS_KEY } from '../../../booking-contracts/src/index.js';

/**
 * booking-api's sorted set of live holds by expiry, as the release job reads it: a tick touches the database only
 * when a hold is due (or on the full pass every tenth tick), so an idle cluster costs one Redis call per second.
 */
@Injectable()
export class ExpiringHolds {
  private readonly key: string;

  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    keyspace: RedisKeyspace,
  ) {
    this.key = keyspace.key(EXPIRING_HOLDS_KEY);
  }

  /** Whether some hold expires by `nowMs`; `true` when Redis does not answer (the database decides then). */
  async anyDue(nowMs: number): Promise<boolean> {
    try {
      return (await this.redis.zrangebyscore(this.key, '-inf', nowMs, 'LIMIT', 0, 1)).length > 0;
    } catch {
      return true;
    }
  }

  /**
   * Drops the entries up to `asOfMs`, once a release pass at that database time ended every hold expiring by then
   * (entries of holds that ended otherwise go too, if booking-api could not remove them).
   */
  async forgetUpTo(asOfMs: number): Promise<void> {
    await this.redis.zremrangebyscore(this.key, '-inf', asOfMs);
  }
}
