import { EventEmitter } from 'node:events';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import type { RedisKeyspace } from '../../keyspace/redis-keyspace.js';
import { parseJsonObject, type RejectedInputReporter } from '../../utils/rejected-input.reporter.js';
import { groupBySlot } from '../batch/redis-hash-slot.js';
import { CACHE_NAMESPACE } from '../cache.constants.js';
import { assertCacheKey, boundCacheKey } from '../cache-key.builder.js';

/** One entry of Keyv's `setMany`: the key as Keyv passes it, the serialized value, and its ttl in ms. */
export interface KeyvStoreEntry {
  key: string;
  value: unknown;
  ttl?: number;
}

/**
 * A Keyv storage adapter over the module's shared client and key prefix: what `CACHE_MANAGER` (cache-manager 7
 * over Keyv) stores in, and what applications can hand to their own `Keyv` or `createCache({ stores })`.
 *
 * Key layout under the module's `keyPrefix`: without a Keyv namespace `<keyPrefix>cache:cm:<key>`; under namespace
 * `ns`, `<keyPrefix>cache:kv:<ns>:<key>` (`%` and `:` of `ns` escaped as `%25` / `%3A`, so no namespace's keys fall
 * inside another's). `<key>` is the key exactly as Keyv passes it (with Keyv's own `ns:` in front unless Keyv's
 * `useKeyPrefix` is false), so `iterator()` gives Keyv back the keys it wrote. `clear()` and `iterator()` cover
 * the current namespace only (SCAN on every master, never KEYS or FLUSHDB): other namespaces, `CacheService`
 * entries and foreign keys are untouched. Batch calls cost one round trip per hash slot. `disconnect()` leaves
 * the shared client open: `RedisModule` closes it at shutdown.
 *
 * One store serves one namespace at a time: Keyv writes its namespace into the store (`store.namespace`), so give
 * each namespaced `Keyv` its own `RedisKeyvStore`.
 */
export class RedisKeyvStore extends EventEmitter {
  /** Set by Keyv to its `namespace` option (`undefined`: no namespace). */
  namespace: string | undefined;
  /** Read by Keyv: the `redis` dialect tells it this store can iterate. */
  readonly opts: Record<string, unknown> = { dialect: 'redis', url: 'shared RedisModule connection' };

  constructor(
    private readonly client: RedisClient,
    private readonly keyspace: RedisKeyspace,
    private readonly rejected?: RejectedInputReporter,
  ) {
    super();
  }

  /**
   * The stored text, for Keyv to deserialize. Anyone who can write under the key prefix can store anything there:
   * text that is not Keyv's JSON envelope (an object) would make Keyv throw from `get()`, so it reads as a miss
   * instead, counted and logged.
   */
  async get<Value>(key: string): Promise<Value | undefined> {
    return this.accept(await this.client.get(this.key(key))) as Value | undefined;
  }

  /** Values of several keys: one pipelined round trip per hash slot. */
  async getMany<Value>(keys: string[]): Promise<Array<Value | undefined>> {
    const values = await this.readAll(keys.map((key) => this.key(key)));
    return values.map((value) => this.accept(value) as Value | undefined);
  }

  /** Writes a value; `ttl` in ms (absent or not positive: no expiry). */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const ttlMs = expiryOf(ttl);
    if (ttlMs > 0) await this.client.set(this.key(key), textOf(value), 'PX', ttlMs);
    else await this.client.set(this.key(key), textOf(value));
    return true;
  }

  /** Writes several values: one pipelined round trip per hash slot. */
  async setMany(entries: KeyvStoreEntry[]): Promise<boolean[]> {
    const keys = entries.map((entry) => this.key(entry.key));
    await Promise.all(
      groupBySlot(this.client, keys).map(async (group) => {
        const pipeline = this.client.pipeline();
        for (const index of group) {
          const { value, ttl } = entries[index]!;
          const ttlMs = expiryOf(ttl);
          if (ttlMs > 0) pipeline.set(keys[index]!, textOf(value), 'PX', ttlMs);
          else pipeline.set(keys[index]!, textOf(value));
        }
        throwFirstError(await pipeline.exec());
      }),
    );
    return entries.map(() => true);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.client.del(this.key(key))) > 0;
  }

  /** Deletes several keys (one DEL per hash slot); `true` when at least one existed. */
  async deleteMany(keys: string[]): Promise<boolean> {
    const redisKeys = keys.map((key) => this.key(key));
    const counts = await Promise.all(
      groupBySlot(this.client, redisKeys).map((group) => this.client.del(...group.map((i) => redisKeys[i]!))),
    );
    return counts.some((count) => count > 0);
  }

  async has(key: string): Promise<boolean> {
    return (await this.client.exists(this.key(key))) > 0;
  }

  /** Whether each key exists: one pipelined round trip per hash slot. */
  async hasMany(keys: string[]): Promise<boolean[]> {
    const redisKeys = keys.map((key) => this.key(key));
    const found = new Array<boolean>(keys.length).fill(false);
    await Promise.all(
      groupBySlot(this.client, redisKeys).map(async (group) => {
        const pipeline = this.client.pipeline();
        for (const index of group) pipeline.exists(redisKeys[index]!);
        const replies = throwFirstError(await pipeline.exec());
        group.forEach((index, at) => (found[index] = Number(replies[at]) > 0));
      }),
    );
    return found;
  }

  /** Deletes every key of the current namespace (SCAN on every master, UNLINK per hash slot); nothing else. */
  async clear(): Promise<void> {
    for await (const batch of this.keyspace.scan(this.client, [...this.parts(this.namespace), ''])) {
      await Promise.all(
        groupBySlot(this.client, batch).map((group) => this.client.unlink(...group.map((i) => batch[i]!))),
      );
    }
  }

  /**
   * Yields `[key, storedText]` for every key of `namespace` (Keyv passes its own), found with SCAN on every master.
   * Keys set while iterating may or may not be seen (SCAN's guarantee); expired ones are not.
   */
  async *iterator(namespace: string | undefined = this.namespace): AsyncGenerator<[string, string], void> {
    const parts = this.parts(namespace);
    const head = this.keyspace.key(...parts, '').length;
    for await (const batch of this.keyspace.scan(this.client, [...parts, ''])) {
      const values = await this.readAll(batch);
      for (let i = 0; i < batch.length; i++) {
        const value = this.accept(values[i] ?? null);
        if (value !== undefined) yield [batch[i]!.slice(head), value];
      }
    }
  }

  /** Nothing to close: the connection belongs to `RedisModule`. */
  async disconnect(): Promise<void> {
    return undefined;
  }

  /** The key-path parts of a namespace, below the module's prefix. */
  private parts(namespace: string | undefined): string[] {
    if (namespace === undefined || namespace === '') return [CACHE_NAMESPACE, 'cm'];
    return [CACHE_NAMESPACE, 'kv', boundCacheKey(namespace.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A')))];
  }

  private key(key: string): string {
    assertCacheKey(key);
    return this.keyspace.key(...this.parts(this.namespace), boundCacheKey(key));
  }

  /**
   * GETs of full Redis keys, one pipelined round trip per hash slot, in the order given (GET rather than MGET:
   * the documented minimal ACL has GET).
   */
  private async readAll(redisKeys: string[]): Promise<Array<string | null>> {
    const values = new Array<string | null>(redisKeys.length).fill(null);
    await Promise.all(
      groupBySlot(this.client, redisKeys).map(async (group) => {
        const pipeline = this.client.pipeline();
        for (const index of group) pipeline.get(redisKeys[index]!);
        const found = throwFirstError(await pipeline.exec());
        group.forEach((index, at) => (values[index] = (found[at] as string | null) ?? null));
      }),
    );
    return values;
  }

  /** The stored text when it is a Keyv envelope; `undefined` (reported) when it is not, or absent. */
  private accept(text: string | null): string | undefined {
    if (text === null) return undefined;
    const problem = envelopeProblem(text);
    if (problem === undefined) return text;
    this.rejected?.reject('cache.manager', 'a CACHE_MANAGER value', `${problem}; read as a miss`);
    return undefined;
  }
}

/** What Keyv hands over is its serialized text; anything else (serialization turned off) is stored as JSON. */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A ttl in whole ms, 0 for "no expiry" (Keyv passes `undefined` for none). */
function expiryOf(ttl: number | undefined): number {
  return typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0 ? Math.ceil(ttl) : 0;
}

/** The replies of a pipeline, throwing the first command error (a pipeline reports errors per command). */
function throwFirstError(results: Array<[Error | null, unknown]> | null): unknown[] {
  if (results === null) throw new Error('the pipeline was discarded');
  for (const [error] of results) if (error) throw error;
  return results.map(([, reply]) => reply);
}

/** Why `text` is not a Keyv envelope (a JSON object), or `undefined` when it is one. */
function envelopeProblem(text: string): string | undefined {
  const parsed = parseJsonObject(text);
  return typeof parsed === 'string' ? parsed : undefined;
}
