import { afterAll } from '@jest/globals';
import { Redis, type RedisOptions } from 'ioredis';
import { deleteKeysWithPrefix } from './key-prefix.js';
import { REDIS_URL } from './redis-url.js';

/** What {@link useRedisClient} connects to and cleans up. */
export interface RedisClientUse {
  /** @default REDIS_URL (the main Redis every suite talks to) */
  url?: string;
  /** Every key under this prefix (or these prefixes) is deleted when the client's scope ends. */
  deleteKeysUnder?: string | readonly string[];
  /** Extra ioredis options (the client always connects lazily, on its first command). */
  options?: RedisOptions;
}

/**
 * A plain ioredis client for a test file or `describe` block: the observer tests read Redis through, and seed or
 * break keys with. It connects on its first command, and an `afterAll` hook deletes the keys under
 * `deleteKeysUnder` and closes it, even when the deletion fails.
 *
 * Hooks run in the order they are declared: call it at the top level of the file (outside the `describe`) when the
 * file's own `afterAll` closes applications, so keys are deleted only after they stopped writing.
 *
 * @example
 * const prefix = uniqueKeyPrefix('cache-service');
 * const observer = useRedisClient({ deleteKeysUnder: prefix });
 */
export function useRedisClient({ url = REDIS_URL, deleteKeysUnder, options }: RedisClientUse = {}): Redis {
  const client = new Redis(url, { ...options, lazyConnect: true });

  afterAll(async () => {
    try {
      for (const prefix of [deleteKeysUnder ?? []].flat()) await deleteKeysWithPrefix(client, prefix);
    } finally {
      await closeClient(client);
    }
  });

  return client;
}

/** QUIT when connected (pending replies arrive first), otherwise drop the socket and stop reconnecting. */
async function closeClient(client: Redis): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
