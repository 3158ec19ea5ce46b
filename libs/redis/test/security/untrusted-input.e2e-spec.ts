import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { Cluster, Redis } from 'ioredis';
import { TaggedJsonCacheSerializer } from '@app/redis';
import { RedisClusterProcesses, RedisServerProcess } from '@test/harness';

/**
 * Every message the library receives from Redis is untrusted. One real application process (fixture
 * `untrusted-input-app.ts`: cache with L1, its bus and server-side tracking, CACHE_MANAGER, locks, a Redlock,
 * pub/sub and streams transport servers and clients) on its own redis-server; the test asks Redis which channels, patterns and streams that process
 * listens on, publishes / XADDs generated junk on every one of them, and checks after each batch that the process
 * is still alive and still serves a cached read, a lock, a CACHE_MANAGER round trip, a request/reply, a pub/sub
 * event and a stream event.
 */

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/untrusted-input-app.ts', import.meta.url));
const run = promisify(execFile);
const KEY_PREFIX = 'fz:';
/** Fixed so that a failure is reproducible; set FUZZ_SEED to explore other inputs. */
const SEED = Number(process.env.FUZZ_SEED ?? 19);
/** The only glob pattern the fixture subscribes (its `fuzz.wild.*` event handler). */
const KNOWN_PATTERNS = [`${KEY_PREFIX}ps:fuzz.wild.*`];

interface ProbeResult {
  probe: number;
  ok: boolean;
  error?: string;
  rejected: Record<string, number>;
  exitCode: number | string | null;
}

/** The fixture process: a probe is one stdin line, answered by one JSON line on stdout. */
class AppProcess {
  private out = '';
  private err = '';
  private next = 1;
  private readonly waiting = new Map<number, (result: ProbeResult) => void>();
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, Readable>) {
    child.stderr.on('data', (chunk: Buffer) => (this.err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      this.out += chunk.toString();
      let newline: number;
      while ((newline = this.out.indexOf('\n')) >= 0) {
        const line = this.out.slice(0, newline);
        this.out = this.out.slice(newline + 1);
        if (!line.startsWith('{')) continue;
        const result = JSON.parse(line) as ProbeResult;
        this.waiting.get(result.probe)?.(result);
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** @param clusterNodes seed nodes (`host:port`) to run the app on a Cluster instead of the server at `url` */
  static async start(url: string, clusterNodes?: string[]): Promise<AppProcess> {
    const args = [fixture, url, KEY_PREFIX, ...(clusterNodes ? [clusterNodes.join(',')] : [])];
    const child = spawn(process.execPath, ['--import', './src/runtime/register.mjs', ...args], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const app = new AppProcess(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`app not ready after 30 s: ${app.err}`)), 30_000);
      const onData = (chunk: Buffer) => {
        if (!chunk.toString().includes('ready')) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve();
      };
      child.stdout.on('data', onData);
      void app.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`app exited early (${code}): ${app.err}`));
      });
    });
    return app;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the process wrote on stderr (its logs, and the stack if it crashed). */
  get stderr(): string {
    return this.err;
  }

  /** Runs one probe; rejects if the process exits first or does not answer within 20 s. */
  probe(): Promise<ProbeResult> {
    const n = this.next++;
    return new Promise<ProbeResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`probe ${n} unanswered after 20 s: ${this.tail()}`)), 20_000);
      this.waiting.set(n, (result) => {
        clearTimeout(timer);
        this.waiting.delete(n);
        resolve(result);
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`app exited (${code}) before probe ${n}: ${this.tail()}`));
      });
      this.child.stdin.write(`probe ${n}\n`);
    });
  }

  /** Closes stdin (the fixture then closes the app); SIGKILL if it is still alive after 10 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private tail(): string {
    return this.err.slice(-4_000);
  }
}

/** Everything the process listens on, as the Redis nodes report it (one node, or each master of a Cluster). */
interface Listened {
  channels: string[];
  shardChannels: string[];
  /** Channels matching each pattern subscription (Redis lists pattern counts, not patterns: see the test). */
  patternChannels: string[];
  patternCount: number;
  streams: string[];
}

async function listened(nodes: Redis[]): Promise<Listened> {
  const channels = new Set<string>();
  const shardChannels = new Set<string>();
  const streams: string[] = [];
  let patternCount = 0;
  for (const node of nodes) {
    for (const channel of (await node.pubsub('CHANNELS', '*')) as string[]) channels.add(channel);
    for (const channel of (await node.call('PUBSUB', 'SHARDCHANNELS', '*')) as string[]) shardChannels.add(channel);
    patternCount += Number(await node.pubsub('NUMPAT'));
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', '*', 'COUNT', 1000, 'TYPE', 'stream');
      cursor = next;
      // Only streams with a consumer group are read; the rest (dead letters) are written, never read.
      for (const key of keys) if (((await node.xinfo('GROUPS', key)) as unknown[]).length > 0) streams.push(key);
    } while (cursor !== '0');
  }
  const patternChannels = KNOWN_PATTERNS.map((pattern) => pattern.replace('*', `x${randomBytes(3).toString('hex')}`));
  return {
    channels: [...channels].sort(),
    shardChannels: [...shardChannels].sort(),
    patternChannels,
    patternCount,
    streams: streams.sort(),
  };
}

/**
 * Sends `payloads` on every channel: classic ones with PUBLISH (on a Cluster the bus carries it to every node),
 * sharded ones with SPUBLISH.
 */
async function publishEverywhere(
  publisher: Redis | Cluster,
  target: Listened,
  payloads: Array<string | Buffer>,
): Promise<void> {
  for (const channel of [...target.channels, ...target.patternChannels]) {
    for (const message of payloads) await publisher.publish(channel, message);
  }
  for (const channel of target.shardChannels) {
    for (const message of payloads) await publisher.spublish(channel, message);
  }
}

/** A header the cache's entry codec accepts (format 1, createdAt now, fresh for a minute) before junk. */
function entryHeader(): Buffer {
  const header = Buffer.alloc(17);
  header.writeUInt8(1, 0);
  header.writeDoubleBE(Date.now(), 1);
  header.writeDoubleBE(Date.now() + 60_000, 9);
  return header;
}

const anyJson = fc.jsonValue({ maxDepth: 4 });
const json = (value: unknown) => JSON.stringify(value) ?? 'null';

/**
 * Payloads of every kind: arbitrary bytes, arbitrary text, JSON of every shape, and objects using the keys of each
 * protocol the library speaks (cache bus `o/k/a`, Nest packets `pattern/data/id/$r/$t`, replies
 * `id/response/err/isDisposed`) with values of any shape.
 */
const payload: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary', maxLength: 256 }),
  anyJson.map(json),
  fc.constantFrom(
    'null',
    'true',
    '0',
    '-1e309',
    '""',
    '[]',
    '{}',
    '{"k":5}',
    '{"k":{"a":1}}',
    '{"a":1}',
    '{"o":1,"a":1}',
  ),
  fc
    .record(
      {
        o: fc.oneof(fc.string(), anyJson),
        k: fc.oneof(fc.array(fc.string()), anyJson),
        a: fc.oneof(fc.constant(1), anyJson),
      },
      { requiredKeys: [] },
    )
    .map(json),
  fc
    .record(
      {
        pattern: fc.oneof(fc.constantFrom('fuzz.echo', 'fuzz.event', 'fuzz.stream', 'fuzz.wild.x'), anyJson),
        data: anyJson,
        id: fc.oneof(fc.string(), anyJson),
        $r: fc.oneof(fc.constantFrom(`${KEY_PREFIX}cache:events`, `${KEY_PREFIX}lock:wake`), fc.string(), anyJson),
        $t: fc.oneof(fc.array(fc.tuple(fc.array(fc.oneof(fc.string(), fc.nat())), fc.constantFrom('D', 'B'))), anyJson),
        response: anyJson,
        err: anyJson,
        isDisposed: anyJson,
      },
      { requiredKeys: [] },
    )
    .map(json),
);

/** About 1 MB and 5 MB: plain text, a JSON string, a bus message with a huge key list, a packet with huge data. */
function hugePayloads(): Array<string | Buffer> {
  const mb = 1024 * 1024;
  return [
    randomBytes(mb),
    json({ o: 'fuzz', k: Array.from({ length: 50_000 }, (_, i) => `key-${i}-${'x'.repeat(10)}`) }),
    json({ pattern: 'fuzz.echo', id: 'huge', data: 'x'.repeat(5 * mb) }),
    '['.repeat(mb),
  ];
}

const serializer = new TaggedJsonCacheSerializer();

/**
 * Whether the cache would read `bytes` as a valid entry (then it is not corrupt, only foreign: a valid entry
 * written by someone else is served like any other, nothing can tell it apart).
 */
function decodesAsEntry(bytes: Buffer): boolean {
  if (bytes.length < 17 || bytes[0] !== 1) return false;
  try {
    serializer.deserialize(bytes.subarray(17));
    return true;
  } catch {
    return false;
  }
}

/** Corrupt bytes for a cache entry or a CACHE_MANAGER value: some pass the entry header check, then fail. */
const corruptValue: fc.Arbitrary<Buffer> = fc
  .oneof(
    fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
    fc.string({ maxLength: 128 }).map((text) => Buffer.concat([entryHeader(), Buffer.from(`J${text}`)])),
    fc
      .record({ '\u0000': fc.constantFrom('u', 'n', 'f', 'D', 'M', 'S', 'R', 'B', 'A', 'O', '?'), v: anyJson })
      .map((tagged) => Buffer.concat([entryHeader(), Buffer.from(`T${json({ x: tagged })}`)])),
    fc.constantFrom(
      Buffer.concat([entryHeader(), Buffer.from(`T${'['.repeat(200_000)}0${']'.repeat(200_000)}`)]),
      Buffer.concat([entryHeader(), Buffer.from('Tnot json')]),
      Buffer.concat([entryHeader(), Buffer.from([0x00, 0xff, 0xfe])]),
      Buffer.from('null'),
      Buffer.from('{"value":'),
    ),
    anyJson.map((value) => Buffer.from(json(value))),
  )
  .filter((bytes) => !decodesAsEntry(bytes));

/** Asserts the process is up and every capability still works; resolves with the rejected-input counts. */
async function expectServing(app: AppProcess, context: string): Promise<Record<string, number>> {
  expect({ context, alive: app.alive }).toEqual({ context, alive: true });
  const result = await app.probe().catch((error: Error) => ({ ok: false, error: error.message }) as ProbeResult);
  expect({ context, ok: result.ok, error: result.error }).toEqual({ context, ok: true, error: undefined });
  expect(result.exitCode).toBeNull();
  return result.rejected;
}

/** Every decoder that listens on a channel: each must have rejected some of the junk. */
const CHANNEL_SOURCES = ['cache.bus', 'transport.message', 'transport.reply', 'lock.wakeup', 'semaphore.wakeup'];

/**
 * Sends `numRuns` batches of 20 generated payloads, then the huge ones, with `publish` (to every channel), checking
 * after each that the process still serves; then that every channel's decoder rejected some.
 */
async function fuzzChannels(
  app: AppProcess,
  publish: (payloads: Array<string | Buffer>) => Promise<void>,
  label: string,
  numRuns: number,
): Promise<void> {
  const batches = fc.sample(fc.array(payload, { minLength: 20, maxLength: 20 }), { numRuns, seed: SEED });
  for (const [i, batch] of batches.entries()) {
    await publish(batch);
    await expectServing(app, `${label} batch ${i} (seed ${SEED})`);
  }
  await publish(hugePayloads());
  const rejected = await expectServing(app, `huge ${label} payloads`);
  for (const source of CHANNEL_SOURCES) {
    expect({ source, rejected: (rejected[source] ?? 0) > 0 }).toEqual({ source, rejected: true });
  }
}

describe('Untrusted input from Redis, in a real application process', () => {
  let server: RedisServerProcess;
  let redis: Redis;
  let app: AppProcess;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    redis = new Redis(server.port, '127.0.0.1');
    app = await AppProcess.start(server.url);
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    redis?.disconnect();
    await server?.stop();
  }, 30_000);

  it('survives the PUBLISH of issue 19 (null, {"k":5}, {"k":{"a":1}} on <keyPrefix>cache:events after a cached read)', async () => {
    // The fixture did its first cached read before printing "ready": the bus is subscribed.
    const channel = `${KEY_PREFIX}cache:events`;
    expect(await redis.pubsub('CHANNELS', channel)).toEqual([channel]);
    const before = (await expectServing(app, 'before'))['cache.bus'] ?? 0;
    for (const message of ['null', '{"k":5}', '{"k":{"a":1}}']) {
      // The exact command of the report, through redis-cli.
      const { stdout } = await run('redis-cli', ['-p', String(server.port), 'publish', channel, message]);
      expect(Number(stdout.trim())).toBeGreaterThan(0);
    }
    const rejected = await expectServing(app, 'after the PUBLISH of issue 19');
    expect(rejected['cache.bus']).toBe(before + 3);
  });

  it('discovers what the process listens on: cache bus, L1 tracking, lock, Redlock and semaphore wake-ups, transport requests and replies, the stream', async () => {
    const target = await listened([redis]);
    const expected = [
      `${KEY_PREFIX}cache:events`,
      '__redis__:invalidate',
      `${KEY_PREFIX}lock:wake`,
      `${KEY_PREFIX}rl:lock:wake`,
      `${KEY_PREFIX}ps:fuzz.echo`,
      `${KEY_PREFIX}ps:fuzz.event`,
      `${KEY_PREFIX}ps:fuzz.echo.reply`,
    ];
    for (const channel of expected) expect(target.channels).toContain(channel);
    expect(target.channels.some((c) => c.startsWith(`${KEY_PREFIX}lock:wake:`))).toBe(true);
    expect(target.channels.some((c) => c.startsWith(`${KEY_PREFIX}rl:lock:wake:`))).toBe(true);
    expect(target.channels.some((c) => c.startsWith(`${KEY_PREFIX}semaphore:wake:`))).toBe(true);
    expect(target.channels.filter((c) => c.includes(':_reply:'))).toHaveLength(2);
    expect(target.streams).toEqual([`${KEY_PREFIX}stream:{fuzz.stream}`]);
    // Redis counts pattern subscriptions but does not list them: every one must be a pattern this test covers, so a
    // new PSUBSCRIBE in the library fails here until the test publishes on it too.
    expect(target.patternCount).toBe(KNOWN_PATTERNS.length);
  });

  it('stays up and keeps serving after generated payloads on every channel and pattern it subscribes', async () => {
    const target = await listened([redis]);
    await fuzzChannels(app, (payloads) => publishEverywhere(redis, target, payloads), 'pub/sub', 10);
  }, 60_000);

  it('stays up and keeps serving after generated entries on every stream it consumes', async () => {
    const target = await listened([redis]);
    const field = fc.oneof(
      fc.constantFrom('data', 'd', 'p', 'payload', 'pattern', 'id', 'e'),
      fc.string({ maxLength: 16 }),
    );
    const entry = fc.array(fc.tuple(field, payload), { minLength: 1, maxLength: 4 });
    const batches = fc.sample(fc.array(entry, { minLength: 15, maxLength: 15 }), { numRuns: 6, seed: SEED });
    const xadd = (stream: string, fields: Array<[string, string | Buffer]>) =>
      redis.xadd(stream, '*', ...fields.flatMap(([name, value]) => [name, value]));
    for (const [i, batch] of batches.entries()) {
      for (const stream of target.streams) for (const fields of batch) await xadd(stream, fields);
      await expectServing(app, `stream batch ${i} (seed ${SEED})`);
    }
    for (const stream of target.streams) {
      for (const huge of hugePayloads()) await xadd(stream, [['data', huge]]);
    }
    await expectServing(app, 'huge stream entries');
  }, 60_000);

  it('reads corrupt cache entries and CACHE_MANAGER values written under its prefix as misses, and keeps serving', async () => {
    const stored: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}cache:*`, 'COUNT', 1000, 'TYPE', 'string');
      cursor = next;
      for (const key of keys) {
        const value = await redis.getBuffer(key);
        // Entries (format byte 1) and CACHE_MANAGER values; not loading locks or generation counters.
        if (value !== null && (value[0] === 1 || key.startsWith(`${KEY_PREFIX}cache:cm:`))) stored.push(key);
      }
    } while (cursor !== '0');
    expect(stored).toContain(`${KEY_PREFIX}cache:cm:probe`);
    expect(stored.filter((key) => !key.includes(':cm:')).length).toBeGreaterThan(0);
    const values = fc.sample(corruptValue, { numRuns: 40, seed: SEED });
    let rejected: Record<string, number> = {};
    for (const [i, value] of values.entries()) {
      for (const key of stored) await redis.set(key, value);
      // A valid "cleared" message, so the next reads skip L1 and meet the corrupt bytes in Redis.
      await redis.publish(`${KEY_PREFIX}cache:events`, json({ o: 'fuzz', a: 1 }));
      rejected = await expectServing(app, `corrupt value ${i} (seed ${SEED})`);
    }
    expect(rejected['cache.entry']).toBeGreaterThan(0);
    expect(rejected['cache.manager']).toBeGreaterThan(0);
  }, 60_000);
});

describe('Untrusted input from Redis, in a real application process on a Cluster (sharded channels)', () => {
  let cluster: RedisClusterProcesses;
  let publisher: Cluster;
  let masters: Redis[];
  let app: AppProcess;

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start(3);
    publisher = new Cluster(cluster.addresses);
    masters = (await cluster.masters()).map((node) => new Redis(node.port, '127.0.0.1'));
    app = await AppProcess.start(cluster.nodes[0]!.url, cluster.addresses);
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    publisher?.disconnect();
    for (const master of masters ?? []) master.disconnect();
    await cluster?.stop();
  }, 30_000);

  it('discovers the sharded channels (cache bus, a waiting lock, the sharded transport) and the classic ones on every master', async () => {
    const target = await listened(masters);
    for (const channel of [`${KEY_PREFIX}cache:events`, `${KEY_PREFIX}sh:fuzz.echo`, `${KEY_PREFIX}sh:fuzz.event`]) {
      expect(target.shardChannels).toContain(channel);
    }
    expect(target.shardChannels.some((c) => c.startsWith(`${KEY_PREFIX}lock:{parked}:wake:`))).toBe(true);
    expect(target.shardChannels.filter((c) => c.includes('sh:_reply:'))).toHaveLength(1);
    for (const channel of ['__redis__:invalidate', `${KEY_PREFIX}ps:fuzz.echo`, `${KEY_PREFIX}ps:fuzz.event`]) {
      expect(target.channels).toContain(channel);
    }
    expect(target.channels.some((c) => c.startsWith(`${KEY_PREFIX}semaphore:wake:`))).toBe(true);
    expect(target.streams).toEqual([`${KEY_PREFIX}stream:{fuzz.stream}`]);
    expect(target.patternCount).toBe(KNOWN_PATTERNS.length);
  });

  it('stays up and keeps serving after generated payloads on every sharded and classic channel', async () => {
    const target = await listened(masters);
    await fuzzChannels(app, (payloads) => publishEverywhere(publisher, target, payloads), 'cluster pub/sub', 6);
  }, 120_000);

  it('stays up and keeps serving after generated entries on the stream it consumes on the cluster', async () => {
    const target = await listened(masters);
    const entry = fc.array(fc.tuple(fc.constantFrom('data', 'd', 'pattern', 'id'), payload), {
      minLength: 1,
      maxLength: 4,
    });
    const batches = fc.sample(fc.array(entry, { minLength: 15, maxLength: 15 }), { numRuns: 3, seed: SEED });
    for (const [i, batch] of batches.entries()) {
      for (const stream of target.streams) {
        for (const fields of batch) await publisher.xadd(stream, '*', ...fields.flat());
      }
      await expectServing(app, `cluster stream batch ${i} (seed ${SEED})`);
    }
  }, 60_000);
});
