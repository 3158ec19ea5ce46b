import { Inject, Injectable } from '@nestjs/common';
import type { ResolvedRedisCoreOptions } from '../connection/resolved-redis-connection.interface.js';
import { REDIS_RESOLVED_OPTIONS } from '../redis.constants.js';
import type { RedisClient } from '../connection/redis-connection.factory.js';

/**
 * The module's key namespace. Every feature builds its keys here, so `keyPrefix` is applied in one place and a
 * namespace can be listed or cleared with SCAN (never KEYS or FLUSHDB).
 */
@Injectable()
export class RedisKeyspace {
  readonly prefix: string;

  constructor(@Inject(REDIS_RESOLVED_OPTIONS) options: Pick<ResolvedRedisCoreOptions, 'keyPrefix'>) {
    this.prefix = options.keyPrefix;
  }

  /**
   * The full Redis key for the given parts, joined with `:` after the prefix.
   * @example keyspace.key('cache', 'venues', '42') // 'booking:cache:venues:42'
   */
  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  /** A SCAN `MATCH` pattern covering `key(...parts)` and everything below it, with glob characters escaped. */
  pattern(...parts: string[]): string {
    return escapeGlob(this.key(...parts)) + '*';
  }

  /**
   * Yields batches of keys matching `pattern(...parts)`. On a Cluster every master is scanned.
   * @param count SCAN COUNT hint
   */
  async *scan(client: RedisClient, parts: string[] = [], count = 500): AsyncGenerator<string[]> {
    const match = this.pattern(...parts);
    const nodes = 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', count);
        cursor = next;
        if (keys.length > 0) yield keys;
      } while (cursor !== '0');
    }
  }
}

/** Escapes Redis glob metacharacters so a literal string can be used in `MATCH`. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
