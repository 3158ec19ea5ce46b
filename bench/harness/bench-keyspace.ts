import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A key prefix unique to one run of one suite (`bench:<suite>:<random>:`), so a run never reads or deletes keys
 * of another run or of an application sharing the Redis.
 */
export function uniqueBenchPrefix(suite: string): string {
  return `bench:${suite.replace(/[^A-Za-z0-9_-]/g, '_')}:${randomBytes(4).toString('hex')}:`;
}

/**
 * Deletes every key under `prefix` with SCAN + UNLINK (never KEYS, which blocks Redis on a large keyspace).
 * @returns how many keys were deleted
 */
export async function deleteBenchKeys(client: Redis, prefix: string): Promise<number> {
  const match = prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`) + '*';
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
