// About 370 lines on purpose: this is the cache's one boundary to Redis (every command and script of the
// cache, single-key and batched, with one deadline policy), so a reader finds every key the cache touches here.
import { Command } from 'ioredis';
import type { PubSubCommands } from '../connection/pubsub-commands.js';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import { CacheUnavailableError } from '../errors/cache-unavailable.error.js';
import { toError } from '../utils/error-text.js';
import type { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import { CACHE_NAMESPACE, GENERATION_TTL_MS } from './cache.constants.js';
import { assertCacheKey, boundCacheKey } from './cache-key.builder.js';
import { CACHE_COMMAND_TIMEOUT, CACHE_NOT_CONNECTED } from './cache.messages.js';
import { CommandDeadlines, type PendingCommand } from '../connection/command-deadlines.js';
import { RedisWriteCoalescer } from '../connection/redis-write-coalescer.js';
import type { LuaScript, ScriptArgument } from '../connection/lua-script.js';
import {
  CLAIM,
  CLAIM_MANY,
  EVICT_MANY,
  GET_MANY,
  RELEASE,
  SET_MANY,
  STORE,
  TAG_ADD,
  TAG_ADD_MANY,
  TAG_INVALIDATE,
} from './cache.scripts.js';
import { groupBySlot } from './batch/redis-hash-slot.js';
import type { PreparedRequest } from './batch/tick.batcher.js';

/** One entry of `storeMany`. */
export interface StoredEntry {
  entryKey: string;
  data: Buffer;
  ttlMs: number;
}

/** One key of `claimSlotBatch`. */
export interface ClaimRequest {
  entryKey: string;
  token: string;
  checkEntry: boolean;
}

/** Result of the claim script. */
export type ClaimResult =
  { kind: 'value'; data: Buffer } | { kind: 'acquired'; generation: string } | { kind: 'busy'; generation: string };

/** A reply of the claim script, read. */
function claimResult(kind: number, payload: Buffer): ClaimResult {
  if (kind === 1) return { kind: 'value', data: payload };
  const generation = payload.toString();
  return kind === 2 ? { kind: 'acquired', generation } : { kind: 'busy', generation };
}

/**
 * The Redis side of the cache: key layout, scripts and a timeout on every command. Every method throws
 * `CacheUnavailableError` when Redis is not connected, errors, or does not answer within `commandTimeout`; the service
 * turns that into fail-open behaviour.
 *
 * Key layout under `<keyPrefix>cache:`: `{key}` the entry, `{key}:g` its generation, `{key}:l` its loading lock,
 * `tag:{tag}` a tag's member set, `tag:{tag}:g` its generation, `cm:…` the `CACHE_MANAGER` store (and `RedisKeyvStore`
 * without a Keyv namespace), `kv:<namespace>:…` `RedisKeyvStore` under a Keyv namespace.
 */
export class CacheRedisStore {
  private readonly deadlines: CommandDeadlines;
  private readonly entryPrefix: string;
  /** GETs issued within one tick leave in few socket writes (one read delivering many replies → one `writev`). */
  private readonly writes: RedisWriteCoalescer;

  constructor(
    readonly client: RedisClient,
    private readonly keyspace: RedisKeyspace,
    private readonly commandTimeout: number,
    /** Classic, or sharded on a Cluster (`cluster.shardedPubSub`): the bus subscribes with the same. */
    readonly pubSub: PubSubCommands,
  ) {
    // A command fails between commandTimeout and 1.25 × commandTimeout after it was sent.
    this.deadlines = new CommandDeadlines({
      tickMs: Math.max(1, Math.ceil(commandTimeout / 4)),
      timeoutError: () => new CacheUnavailableError(CACHE_COMMAND_TIMEOUT(commandTimeout)),
    });
    this.writes = new RedisWriteCoalescer(client);
    this.entryPrefix = keyspace.key(CACHE_NAMESPACE, '');
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
      return Promise.reject(new CacheUnavailableError(CACHE_NOT_CONNECTED(this.client.status)));
    }
    const command = this.getCommand(entryKey);
    this.sendGet(command);
    return command.promise;
  }

  /**
   * The GET of an entry, built but not sent (an ioredis `Command`): the first read of a turn (`CacheReadBatcher`),
   * sent by `sendGet` when it stays alone, else settled (`resolve` / `reject`) by the batch that took it in.
   */
  getCommand(entryKey: string): PreparedRequest<Buffer | null> {
    return new Command('get', [entryKey], { replyEncoding: null });
  }

  /** Sends a command of `getCommand` (failed at once when the connection is not ready: no offline queue). */
  sendGet(prepared: PreparedRequest<Buffer | null>): void {
    const command = prepared as Command;
    if (this.client.status !== 'ready') {
      command.reject(new CacheUnavailableError(CACHE_NOT_CONNECTED(this.client.status)));
      return;
    }
    this.deadlines.track(command, this.commandTimeout);
    this.writes.hold();
    void this.client.sendCommand(command);
  }

  /** Fails the commands still waiting (shutdown). */
  close(): void {
    this.deadlines.failAll();
  }

  async claim(entryKey: string, token: string, lockTtl: number, checkEntry: boolean): Promise<ClaimResult> {
    const [kind, payload] = (await this.script(
      CLAIM,
      [entryKey, `${entryKey}:g`, `${entryKey}:l`],
      [token, lockTtl, checkEntry ? '1' : '0'],
      null,
    )) as [number, Buffer];
    return claimResult(kind, payload);
  }

  /**
   * `claim` of several entries of one hash slot (any entries on a single node) in one script: the misses of a tick
   * (`CacheClaimBatcher`).
   */
  async claimSlotBatch(requests: ClaimRequest[], lockTtl: number): Promise<ClaimResult[]> {
    const keys: string[] = [];
    const args: ScriptArgument[] = [lockTtl];
    for (const { entryKey, token, checkEntry } of requests) {
      keys.push(entryKey, `${entryKey}:g`, `${entryKey}:l`);
      args.push(token, checkEntry ? '1' : '0');
    }
    this.writes.hold();
    const flat = (await this.script(CLAIM_MANY, keys, args, null)) as Array<number | Buffer>;
    return requests.map((_request, i) => claimResult(flat[i * 2] as number, flat[i * 2 + 1] as Buffer));
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
    const stored = await this.script(
      STORE,
      [entryKey, `${entryKey}:g`, `${entryKey}:l`],
      [generation, data, Math.max(1, Math.ceil(ttlMs)), token],
    );
    return stored === 1;
  }

  async release(entryKey: string, token: string): Promise<void> {
    await this.script(RELEASE, [`${entryKey}:l`], [token]);
  }

  /**
   * Deletes entries and bumps their generations, so loaders already running cannot write them back: one script
   * per hash slot (an entry and its generation share one), so a batch costs one round trip per slot.
   */
  async evict(entryKeys: string[]): Promise<number> {
    const counts = await Promise.all(
      groupBySlot(this.client, entryKeys).map((group) =>
        this.script(
          EVICT_MANY,
          group.flatMap((i) => [entryKeys[i]!, `${entryKeys[i]!}:g`]),
          [GENERATION_TTL_MS],
        ),
      ),
    );
    return counts.reduce<number>((sum, count) => sum + Number(count), 0);
  }

  /**
   * GETs of entries of one hash slot (any entries on a single node) in one script: the batched hits of a tick
   * (`CacheReadBatcher`) and `getMany`. `null` where an entry is missing.
   */
  getSlotBatch(entryKeys: string[]): Promise<Array<Buffer | null>> {
    this.writes.hold();
    return this.script(GET_MANY, entryKeys, [], null) as Promise<Array<Buffer | null>>;
  }

  /** GETs of several entries: one script per hash slot. `null` where an entry is missing. */
  async getMany(entryKeys: string[]): Promise<Array<Buffer | null>> {
    const out = new Array<Buffer | null>(entryKeys.length).fill(null);
    await Promise.all(
      groupBySlot(this.client, entryKeys).map(async (group) => {
        const values = await this.getSlotBatch(group.map((i) => entryKeys[i]!));
        group.forEach((index, at) => (out[index] = values[at] ?? null));
      }),
    );
    return out;
  }

  /** Stores entries unconditionally (like `store(…, '*')`): one script per hash slot. */
  async storeMany(entries: StoredEntry[]): Promise<void> {
    const keys = entries.map((entry) => entry.entryKey);
    await Promise.all(
      groupBySlot(this.client, keys).map((group) =>
        this.script(
          SET_MANY,
          group.map((i) => keys[i]!),
          group.flatMap((i) => [entries[i]!.data, Math.max(1, Math.ceil(entries[i]!.ttlMs))]),
        ),
      ),
    );
  }

  /** Current generations of tags (read before a loader runs). */
  tagGenerations(tags: string[]): Promise<string[]> {
    return this.timed(() =>
      Promise.all(tags.map(async (tag) => (await this.client.get(`${this.tagKey(tag)}:g`)) ?? '0')),
    );
  }

  /** Registers entries under their tags (one script per tag) and returns the tags' generations, read after it. */
  addToTags(entryKey: string | string[], tags: string[], ttlMs: number): Promise<string[]> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    if (typeof entryKey === 'string') {
      return Promise.all(
        tags.map(
          async (tag) =>
            (await this.script(
              TAG_ADD,
              [this.tagKey(tag), `${this.tagKey(tag)}:g`],
              [entryKey, ttl],
              'utf8',
            )) as string,
        ),
      );
    }
    return Promise.all(
      tags.map(
        async (tag) =>
          (await this.script(
            TAG_ADD_MANY,
            [this.tagKey(tag), `${this.tagKey(tag)}:g`],
            [ttl, ...entryKey],
            'utf8',
          )) as string,
      ),
    );
  }

  /**
   * Bumps the tags' generations and evicts their members; returns the member entry keys and how many of them
   * still existed.
   */
  async invalidateTags(tags: string[]): Promise<{ members: string[]; deleted: number }> {
    const memberLists = await Promise.all(
      tags.map(
        async (tag) =>
          (await this.script(
            TAG_INVALIDATE,
            [this.tagKey(tag), `${this.tagKey(tag)}:g`],
            [GENERATION_TTL_MS],
            'utf8',
          )) as string[],
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
        else if ((rest.startsWith('tag:{') && rest.endsWith('}')) || rest.startsWith('cm:') || rest.startsWith('kv:'))
          others.push(key);
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
    return this.timed(() => this.pubSub.publish(this.client, this.channel, message));
  }

  private tagKey(tag: string): string {
    assertCacheKey(tag, 'cache tag');
    return this.keyspace.key(CACHE_NAMESPACE, 'tag', `{${boundCacheKey(tag)}}`);
  }

  private assertConnected(): void {
    if (this.client.status !== 'ready') throw new CacheUnavailableError(CACHE_NOT_CONNECTED(this.client.status));
  }

  /**
   * Runs one of the cache's scripts with the cache's timeout (through the shared `LuaScript` runner: nothing is
   * added to the client); fails at once when the connection is not ready (no offline queue).
   */
  private script(
    script: LuaScript,
    keys: string[],
    args: ScriptArgument[],
    replyEncoding?: BufferEncoding | null,
  ): Promise<unknown> {
    if (this.client.status !== 'ready') {
      return Promise.reject(new CacheUnavailableError(CACHE_NOT_CONNECTED(this.client.status)));
    }
    return script.run(this.client, keys, args, this.deadlines, this.commandTimeout, replyEncoding);
  }

  /** Runs a command with the cache's timeout; fails at once when the connection is not ready (no offline queue). */
  private timed<T>(command: () => Promise<T>): Promise<T> {
    if (this.client.status !== 'ready') {
      return Promise.reject(new CacheUnavailableError(CACHE_NOT_CONNECTED(this.client.status)));
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
          reject(toError(error));
        },
      );
    });
  }
}
