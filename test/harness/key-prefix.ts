import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * A key prefix unique to one test file and run (`t:<tag>:<random>:`), so files run in parallel against one Redis
 * without seeing each other's keys.
 */
export function uniqueKeyPrefix(tag: string): string {
  return `t:${tag.replace(/[^A-Za-z0-9_-]/g, '_')}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` with SCAN + UNLINK (never KEYS). */
export async function deleteKeysWithPrefix(client: Redis | Cluster, prefix: string): Promise<number> {
  const match = prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`) + '*';
  const nodes = 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client as Redis];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 500);
      cursor = next;
      for (const key of keys) deleted += await node.unlink(key);
    } while (cursor !== '0');
  }
  return deleted;
}
