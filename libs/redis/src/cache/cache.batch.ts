import { Inject, Injectable } from '@nestjs/common';
import type { ResolvedCacheOptions } from './cache-options.interface.js';
import { decodeEntry, encodeEntry } from './cache-entry.codec.js';
import { resolveCallOptions } from './cache-call-options.js';
import type { StoredEntry } from './cache-redis.store.js';
import { REDIS_CACHE_OPTIONS } from './cache.constants.js';
import { CacheStack } from './cache.stack.js';

/** One entry of `CacheService.setMany()`; its own `ttl` / `staleTtl` win over the call's options. */
export interface CacheManyEntry<T = unknown> {
  key: string;
  value: T;
  /** @default the call's `ttl`, else the module's `cache.ttl` */
  ttl?: number;
  /** @default the call's `staleTtl`, else the module's `cache.staleTtl` */
  staleTtl?: number;
}

/** Options of `CacheService.setMany()`, applied to every entry. */
export interface CacheSetManyOptions {
  /** @default the module's `cache.ttl` */
  ttl?: number;
  /** @default the module's `cache.staleTtl` */
  staleTtl?: number;
  /** Tags every entry of the batch carries. */
  tags?: string[];
}

/**
 * Internal: the batch reads and writes of `CacheService` (`getMany` / `setMany`; `delMany` is `del` with an array).
 * Each costs one Redis command per hash slot of its keys, not one per key: one script for all keys on a single node,
 * one per slot on a Cluster, plus one PUBLISH per write batch and one script per tag. The entry
 * format, L1 and the invalidation bus are the single-key paths' own: a value written by `setMany` reads back with
 * `get`, and the other way round.
 */
@Injectable()
export class CacheBatch {
  constructor(
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly stack: CacheStack,
  ) {}

  /**
   * The cached values of `keys`, in order: `undefined` for a miss (all of them when Redis is unavailable), `null`
   * where `null` was cached. Fresh values come from L1 when it holds them; stale entries are returned too.
   */
  async getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    const stack = this.stack;
    stack.startBus();
    const entryKeys = keys.map((key) => stack.entryKeyOf(key));
    const now = Date.now();
    const values = new Array<T | undefined>(keys.length).fill(undefined);
    const remote: number[] = [];
    keys.forEach((key, index) => {
      const local = stack.readL1(key, now);
      if (local) values[index] = local.value as T;
      else remote.push(index);
    });
    if (remote.length === 0) return values;
    const l1Token = stack.l1Token();
    let found: Array<Buffer | null>;
    try {
      found = await stack.store.getMany(remote.map((index) => entryKeys[index]!));
    } catch (error) {
      stack.failOpen('default', error);
      return values;
    }
    remote.forEach((index, at) => {
      const data = found[at];
      const entry = data ? decodeEntry(this.options.serializer, data, stack.rejected) : undefined;
      if (!entry) return;
      values[index] = entry.value as T;
      if (now < entry.freshUntil) stack.writeL1(keys[index]!, entry, l1Token);
    });
    return values;
  }

  /**
   * Stores every entry whose value is not `undefined`, unconditionally (as `set` does), registers them under
   * `options.tags`, and tells the other replicas once. Fail-open: a Redis failure is logged and nothing is cached.
   */
  async setMany(entries: ReadonlyArray<CacheManyEntry>, options: CacheSetManyOptions = {}): Promise<void> {
    const stack = this.stack;
    const kept = entries.filter((entry) => entry.value !== undefined);
    if (kept.length === 0) return;
    stack.startBus();
    const now = Date.now();
    const call = resolveCallOptions(this.options, options);
    const writes = kept.map((entry) => {
      const ttl = entry.ttl ?? call.ttl;
      const staleTtl = entry.staleTtl ?? call.staleTtl;
      const entryKey = stack.entryKeyOf(entry.key);
      return {
        key: entry.key,
        value: entry.value,
        freshUntil: now + ttl,
        stored: {
          entryKey,
          data: encodeEntry(this.options.serializer, entry.value, now, now + ttl),
          ttlMs: ttl + staleTtl,
        } satisfies StoredEntry,
      };
    });
    const entryKeys = writes.map((write) => write.stored.entryKey);
    for (const entryKey of entryKeys) stack.forgetRead(entryKey);
    const l1Token = stack.l1Token();
    try {
      if (options.tags?.length) {
        const longest = Math.max(...writes.map((write) => write.stored.ttlMs));
        await stack.store.addToTags(entryKeys, options.tags, longest);
      }
      await stack.store.storeMany(writes.map((write) => write.stored));
      for (const write of writes) {
        stack.writeL1(write.key, { value: write.value, createdAt: now, freshUntil: write.freshUntil }, l1Token);
      }
      await stack.announce([...new Set(entryKeys)]);
    } catch (error) {
      for (const write of writes) stack.l1?.delete(write.key);
      stack.failOpen('default', error);
    }
  }
}
