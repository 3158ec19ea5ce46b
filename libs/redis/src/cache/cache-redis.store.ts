import { Command } from 'ioredis';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import type { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import { CACHE_NAMESPACE, GENERATION_TTL_MS } from './cache.constants.js';
import { assertCacheKey, boundCacheKey } from './cache-key.builder.js';
import { CACHE_COMMAND_TIMEOUT, CACHE_NOT_CONNECTED } from './cache.messages.js';
import { CommandDeadlines, type PendingCommand } from '../connection/command-deadlines.js';
import { RedisWriteCoalescer } from '../connection/redis-write-coalescer.js';
import {
  CLAIM_SCRIPT,
  EVICT_SCRIPT,
  RELEASE_SCRIPT,
  STORE_SCRIPT,
  TAG_ADD_SCRIPT,
  TAG_INVALIDATE_SCRIPT,
} from './cache.scripts.js';

/** A cache command failed or timed out: the caller proceeds without the cache. */
export class CacheUnavailable extends Error {}

/** Result of the claim script. */
export type ClaimResult =
  { kind: 'value'; data: Buffer } | { kind: 'acquired'; generation: string } | { kind: 'busy'; generation: string };

type ScriptCall<TArgs extends unknown[], TResult> = (...args: TArgs) => Promise<TResult>;

/** The custom commands `defineCommand` adds to the shared client (Buffer variants where values are binary). */
interface CacheCommands {
  nestRedisCacheClaimBuffer: ScriptCall<[string, string, string, string, number, string], [number, Buffer]>;
  nestRedisCacheStore: ScriptCall<[string, string, string, string, Buffer, number, string], number>;
  nestRedisCacheRelease: ScriptCall<[string, string], number>;
  nestRedisCacheEvict: ScriptCall<[string, string, number], number>;
  nestRedisCacheTagAdd: ScriptCall<[string, string, string, number], string>;
  nestRedisCacheTagInvalidate: ScriptCall<[string, string, number], string[]>;
}

const SCRIPTS: Array<[keyof CacheCommands, number, string]> = [
  ['nestRedisCacheClaimBuffer', 3, CLAIM_SCRIPT],
  ['nestRedisCacheStore', 3, STORE_SCRIPT],
  ['nestRedisCacheRelease', 1, RELEASE_SCRIPT],
  ['nestRedisCacheEvict', 2, EVICT_SCRIPT],
  ['nestRedisCacheTagAdd', 2, TAG_ADD_SCRIPT],
  ['nestRedisCacheTagInvalidate', 2, TAG_INVALIDATE_SCRIPT],
];

/**
 * The Redis side of the cache: key layout, scripts and a timeout on every command. Every method throws
 * `CacheUnavailable` when Redis is not connected, errors, or does not answer within `commandTimeout`; the service
 * turns that into fail-open behaviour.
 *
 * Key layout under `<keyPrefix>cache:`: `{key}` the entry, `{key}:g` its generation, `{key}:l` its loading lock,
 * `tag:{tag}` a tag's member set, `tag:{tag}:g` its generation, `cm:…` the `CACHE_MANAGER` store.
 */
export class CacheRedisStore {
  private readonly commands: CacheCommands;
  private readonly deadlines: CommandDeadlines;
  private readonly entryPrefix: string;
  /** GETs issued within one tick leave in few socket writes (one read delivering many replies → one `writev`). */
  private readonly writes: RedisWriteCoalescer;

  constructor(
    readonly client: RedisClient,
    private readonly keyspace: RedisKeyspace,
    private readonly commandTimeout: number,
  ) {
    // A command fails between commandTimeout and 1.25 × commandTimeout after it was sent.
    this.deadlines = new CommandDeadlines({
      tickMs: Math.max(1, Math.ceil(commandTimeout / 4)),
      timeoutError: () => new CacheUnavailable(CACHE_COMMAND_TIMEOUT(commandTimeout)),
    });
    this.writes = new RedisWriteCoalescer(client);
    this.entryPrefix = keyspace.key(CACHE_NAMESPACE, '');
    const target = client as unknown as Record<string, unknown>;
    for (const [name, numberOfKeys, lua] of SCRIPTS) {
      const base = name.replace(/Buffer$/, '');
      if (typeof target[name] !== 'function') client.defineCommand(base, { numberOfKeys, lua });
    }
    this.commands = client as unknown as CacheCommands;
  }

  /** The Redis key of an entry (the hash tag keeps its generation and lock in the same slot). */
  entryKey(key: string): string {
    return `${this.entryPrefix}{${key}}`;
  }

  /** The cache key of an entry key (inverse of `entryKey`). */
  keyOf(entryKey: string): string {
    return entryKey.slice(this.entryPrefix.length + 1, -1);
  }

  /** The channel carrying invalidations and "value landed" notices. */
  get channel(): string {
    return this.keyspace.key(CACHE_NAMESPACE, 'events');
  }

  /**
   * GET of an entry, the hot path: the ioredis `Command` is rejected in place at its deadline, so a hit costs no
   * timer and no wrapper promise.
   */
  get(entryKey: string): Promise<Buffer | null> {
    if (this.client.status !== 'ready') {
      return Promise.reject(new CacheUnavailable(CACHE_NOT_CONNECTED(this.client.status)));
    }
    const command = new Command('get', [entryKey], { replyEncoding: null });
    this.deadlines.track(command, this.commandTimeout);
    this.writes.hold();
    void this.client.sendCommand(command);
    return command.promise as Promise<Buffer | null>;
  }

  /** Fails the commands still waiting (shutdown). */
  close(): void {
    this.deadlines.failAll();
  }

  async claim(entryKey: string, token: string, lockTtl: number, checkEntry: boolean): Promise<ClaimResult> {
    const [kind, payload] = await this.timed(() =>
      this.commands.nestRedisCacheClaimBuffer(
        entryKey,
        `${entryKey}:g`,
        `${entryKey}:l`,
        token,
        lockTtl,
        checkEntry ? '1' : '0',
      ),
    );
    if (kind === 1) return { kind: 'value', data: payload };
    const generation = payload.toString();
    return kind === 2 ? { kind: 'acquired', generation } : { kind: 'busy', generation };
  }

  /** The entry's generation (read before a producer runs, checked when storing). */
  async generation(entryKey: string): Promise<string> {
    return (await this.timed(() => this.client.get(`${entryKey}:g`))) ?? '0';
  }

  /**
   * Stores an entry unless it was evicted since `generation` was read (`'*'`: unconditionally); releases the lock
   * held with `token`. Returns whether it was stored.
   */
  async store(entryKey: string, generation: string, data: Buffer, ttlMs: number, token = ''): Promise<boolean> {
    const stored = await this.timed(() =>
      this.commands.nestRedisCacheStore(
        entryKey,
        `${entryKey}:g`,
        `${entryKey}:l`,
        generation,
        data,
        Math.max(1, Math.ceil(ttlMs)),
        token,
      ),
    );
    return stored === 1;
  }

  async release(entryKey: string, token: string): Promise<void> {
    await this.timed(() => this.commands.nestRedisCacheRelease(`${entryKey}:l`, token));
  }

  /** Deletes entries and bumps their generations, so loaders already running cannot write them back. */
  async evict(entryKeys: string[]): Promise<number> {
    const counts = await this.timed(() =>
      Promise.all(
        entryKeys.map((entryKey) => this.commands.nestRedisCacheEvict(entryKey, `${entryKey}:g`, GENERATION_TTL_MS)),
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Current generations of tags (read before a loader runs). */
  tagGenerations(tags: string[]): Promise<string[]> {
    return this.timed(() =>
      Promise.all(tags.map(async (tag) => (await this.client.get(`${this.tagKey(tag)}:g`)) ?? '0')),
    );
  }

  /** Registers an entry under its tags and returns the tags' generations, read after the registration. */
  addToTags(entryKey: string, tags: string[], ttlMs: number): Promise<string[]> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return this.timed(() =>
      Promise.all(
        tags.map((tag) => this.commands.nestRedisCacheTagAdd(this.tagKey(tag), `${this.tagKey(tag)}:g`, entryKey, ttl)),
      ),
    );
  }

  /**
   * Bumps the tags' generations and evicts their members; returns the member entry keys and how many of them
   * still existed.
   */
  async invalidateTags(tags: string[]): Promise<{ members: string[]; deleted: number }> {
    const memberLists = await this.timed(() =>
      Promise.all(
        tags.map((tag) =>
          this.commands.nestRedisCacheTagInvalidate(this.tagKey(tag), `${this.tagKey(tag)}:g`, GENERATION_TTL_MS),
        ),
      ),
    );
    const members = [...new Set(memberLists.flat())];
    const deleted = members.length > 0 ? await this.evict(members) : 0;
    return { members, deleted };
  }

  /**
   * Evicts every entry and tag set under `<keyPrefix>cache:` found by SCAN (every master on a Cluster); returns
   * the evicted entry keys. Not bounded by `commandTimeout`: it is an administrative call.
   */
  async clear(): Promise<string[]> {
    this.assertConnected();
    const base = this.keyspace.key(CACHE_NAMESPACE);
    const evicted: string[] = [];
    for await (const batch of this.keyspace.scan(this.client, [CACHE_NAMESPACE])) {
      const entries: string[] = [];
      const others: string[] = [];
      for (const key of batch) {
        const rest = key.slice(base.length + 1);
        if (rest.startsWith('{') && rest.endsWith('}')) entries.push(key);
        else if ((rest.startsWith('tag:{') && rest.endsWith('}')) || rest.startsWith('cm:')) others.push(key);
      }
      if (entries.length > 0) {
        await this.evict(entries);
        evicted.push(...entries);
      }
      await Promise.all(others.map((key) => this.client.unlink(key)));
    }
    return evicted;
  }

  publish(message: string): Promise<unknown> {
    return this.timed(() => this.client.publish(this.channel, message));
  }

  private tagKey(tag: string): string {
    assertCacheKey(tag, 'cache tag');
    return this.keyspace.key(CACHE_NAMESPACE, 'tag', `{${boundCacheKey(tag)}}`);
  }

  private assertConnected(): void {
    if (this.client.status !== 'ready') throw new CacheUnavailable(CACHE_NOT_CONNECTED(this.client.status));
  }

  /** Runs a command with the cache's timeout; fails at once when the connection is not ready (no offline queue). */
  private timed<T>(command: () => Promise<T>): Promise<T> {
    if (this.client.status !== 'ready') {
      return Promise.reject(new CacheUnavailable(CACHE_NOT_CONNECTED(this.client.status)));
    }
    return new Promise<T>((resolve, reject) => {
      const pending: PendingCommand = { isResolved: false, reject };
      this.deadlines.track(pending, this.commandTimeout);
      command().then(
        (value) => {
          pending.isResolved = true;
          resolve(value);
        },
        (error: unknown) => {
          pending.isResolved = true;
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
