import { EventEmitter } from 'node:events';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import type { RedisKeyspace } from '../../keyspace/redis-keyspace.js';
import { CACHE_NAMESPACE } from '../cache.constants.js';
import { assertCacheKey, boundCacheKey } from '../cache-key.builder.js';

/**
 * A Keyv storage adapter over the module's shared client and key prefix, behind Nest's `CACHE_MANAGER`
 * (cache-manager 7 wraps Keyv stores). Keys live under `<keyPrefix>cache:cm:`, so `clear()` removes only those
 * (SCAN + UNLINK on every master, never FLUSHDB) and `CacheService.clear()` covers them too. `disconnect()` leaves
 * the shared client open: `RedisModule` closes it at shutdown.
 */
export class RedisKeyvStore extends EventEmitter {
  /** Keyv reads this; our keys are namespaced by the key prefix already. */
  namespace: string | undefined;
  readonly opts = { dialect: 'redis', url: 'shared RedisModule connection' };

  constructor(
    private readonly client: RedisClient,
    private readonly keyspace: RedisKeyspace,
  ) {
    super();
  }

  private key(key: string): string {
    assertCacheKey(key);
    return this.keyspace.key(CACHE_NAMESPACE, 'cm', boundCacheKey(key));
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    const value = await this.client.get(this.key(key));
    return (value ?? undefined) as Value | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<Value | undefined>> {
    return Promise.all(keys.map((key) => this.get<Value>(key)));
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (typeof ttl === 'number' && ttl > 0) await this.client.set(this.key(key), text, 'PX', Math.ceil(ttl));
    else await this.client.set(this.key(key), text);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return (await this.client.del(this.key(key))) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    const counts = await Promise.all(keys.map((key) => this.client.del(this.key(key))));
    return counts.some((n) => n > 0);
  }

  async has(key: string): Promise<boolean> {
    return (await this.client.exists(this.key(key))) > 0;
  }

  /** Deletes every `CACHE_MANAGER` key of this application's namespace (SCAN, every master). */
  async clear(): Promise<void> {
    for await (const batch of this.keyspace.scan(this.client, [CACHE_NAMESPACE, 'cm'])) {
      await Promise.all(batch.map((key) => this.client.unlink(key)));
    }
  }

  /** Nothing to close: the connection belongs to `RedisModule`. */
  async disconnect(): Promise<void> {
    return undefined;
  }
}
