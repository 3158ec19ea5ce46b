import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { RedisTransportClient, RedisTransportServer, RedisTransportTimeoutError } from '@app/redis/transport';
import { RedisServerProcess, eventually, uniqueKeyPrefix } from '@test/harness';

const EMIT_TIMEOUT = 400;
/** How late a timed-out emit may fail: the deadline plus timer and scheduling slack on a busy CI machine. */
const SLACK = 600;
const pattern = 'booking.created';

interface Outcome {
  ok: boolean;
  ms: number;
  error?: unknown;
}

async function emitTimed(client: RedisTransportClient, seq: number): Promise<Outcome> {
  const startedAt = Date.now();
  try {
    await lastValueFrom(client.emit(pattern, { seq }), { defaultValue: undefined });
    return { ok: true, ms: Date.now() - startedAt };
  } catch (error) {
    return { ok: false, ms: Date.now() - startedAt, error };
  }
}

/** Emits until one succeeds (Redis is back and the client reconnected by itself); `undefined` if none did. */
async function firstSuccess(client: RedisTransportClient, seq: number, withinMs: number): Promise<Outcome | undefined> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const outcome = await emitTimed(client, seq);
    if (outcome.ok) return outcome;
  }
  return undefined;
}

/**
 * The client connected and one emit confirmed while Redis is healthy: the premise of each outage below. Retried,
 * because the first emit also waits for the connection, and on a loaded CI machine that took over the 400 ms once.
 */
async function workingFirst(client: RedisTransportClient): Promise<Outcome | undefined> {
  await client.connect();
  return firstSuccess(client, 1, 10_000);
}

describe('RedisTransportClient › emitTimeout › Redis unavailable', () => {
  let redis: RedisServerProcess | undefined;
  const clients: RedisTransportClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await redis?.stop();
    redis = undefined;
  });

  afterAll(async () => {
    await redis?.stop();
  });

  function client(url: string, mode: 'streams' | 'pubsub', keyPrefix = ''): RedisTransportClient {
    const created = new RedisTransportClient({
      url,
      keyPrefix,
      mode,
      emitTimeout: EMIT_TIMEOUT,
      reconnectMaxDelay: 200,
    });
    clients.push(created);
    return created;
  }

  it('streams mode: Redis stopped → emits fail within emitTimeout and are never written; after restart emits succeed by themselves', async () => {
    // AOF so that the stream survives the restart and the test can list what was written.
    redis = await RedisServerProcess.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    const keyPrefix = uniqueKeyPrefix('transport-emit-timeout');
    const emitter = client(redis.url, 'streams', keyPrefix);
    expect((await workingFirst(emitter))?.ok).toBe(true);

    await redis.stop({ keepDir: true });
    // Emits issued once the client knows its command connection is gone. (One already on the wire when Redis went
    // away is resent by ioredis on reconnection: that is the "unknown outcome" case, not tested here.)
    const pub = emitter.unwrap<ReadonlyMap<string, { status: string }>>().get('pub')!;
    expect(await eventually(() => pub.status !== 'ready', 3_000)).toBe(true);
    const during = await Promise.all([2, 3, 4, 5, 6].map((seq) => emitTimed(emitter, seq)));
    for (const outcome of during) {
      expect(outcome.ok).toBe(false);
      expect(outcome.error).toBeInstanceOf(RedisTransportTimeoutError);
      expect((outcome.error as RedisTransportTimeoutError).code).toBe('E_TRANSPORT_TIMEOUT');
      expect((outcome.error as Error).message).toMatch(/emitTimeout 400 ms.*outcome is unknown/);
      expect(outcome.ms).toBeGreaterThanOrEqual(EMIT_TIMEOUT - 5);
      expect(outcome.ms).toBeLessThan(EMIT_TIMEOUT + SLACK);
    }

    await redis.restart();
    const after = await firstSuccess(emitter, 7, 10_000);
    expect(after?.ok).toBe(true);
    expect((await emitTimed(emitter, 8)).ok).toBe(true);

    // The timed-out emits waited in the client, not in ioredis' offline queue: none was written after the restart.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const direct = new Redis(redis.url);
    try {
      const stream = new RedisTransportServer({ url: redis.url, keyPrefix, mode: 'streams', streams: { group: 'g' } });
      const entries = await direct.xrange(stream.streamKey(pattern), '-', '+');
      const seqs = entries.map(([, fields]) => (JSON.parse(fields[1]) as { data: { seq: number } }).data.seq);
      expect(seqs.filter((seq) => seq >= 2 && seq <= 6)).toEqual([]);
      expect(seqs).toContain(1);
      expect(seqs).toContain(8);
    } finally {
      direct.disconnect();
    }
  }, 30_000);

  it('streams mode: Redis frozen (SIGSTOP) → emits fail within emitTimeout; after it resumes they succeed again', async () => {
    redis = await RedisServerProcess.start();
    const emitter = client(redis.url, 'streams', uniqueKeyPrefix('transport-emit-frozen'));
    expect((await workingFirst(emitter))?.ok).toBe(true);

    redis.pause();
    const during = await Promise.all([2, 3].map((seq) => emitTimed(emitter, seq)));
    redis.resume();
    for (const outcome of during) {
      expect(outcome.error).toBeInstanceOf(RedisTransportTimeoutError);
      expect(outcome.ms).toBeLessThan(EMIT_TIMEOUT + SLACK);
    }
    expect((await firstSuccess(emitter, 4, 10_000))?.ok).toBe(true);
  }, 30_000);

  it('pub/sub mode: Redis stopped → emits fail within emitTimeout; after restart they succeed by themselves', async () => {
    redis = await RedisServerProcess.start();
    const emitter = client(redis.url, 'pubsub');
    expect((await workingFirst(emitter))?.ok).toBe(true);

    await redis.stop({ keepDir: true });
    const outcome = await emitTimed(emitter, 2);
    expect(outcome.error).toBeInstanceOf(RedisTransportTimeoutError);
    expect(outcome.ms).toBeLessThan(EMIT_TIMEOUT + SLACK);

    await redis.restart();
    expect((await firstSuccess(emitter, 3, 10_000))?.ok).toBe(true);
  }, 30_000);

  it('a client that never connected fails its emit within emitTimeout, not connectTimeout', async () => {
    redis = await RedisServerProcess.start();
    const url = redis.url;
    await redis.stop({ keepDir: true });
    const emitter = client(url, 'streams');
    const outcome = await emitTimed(emitter, 1);
    expect(outcome.error).toBeInstanceOf(RedisTransportTimeoutError);
    expect(outcome.ms).toBeLessThan(EMIT_TIMEOUT + SLACK);

    await redis.restart();
    expect((await firstSuccess(emitter, 2, 15_000))?.ok).toBe(true);
  }, 30_000);

  it('close() fails the emits still waiting for Redis with RedisTransportClosedError', async () => {
    redis = await RedisServerProcess.start();
    const emitter = new RedisTransportClient({ url: redis.url, mode: 'streams', emitTimeout: 10_000 });
    clients.push(emitter);
    expect((await workingFirst(emitter))?.ok).toBe(true);
    await redis.stop({ keepDir: true });
    const waiting = emitTimed(emitter, 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const startedAt = Date.now();
    await emitter.close();
    const outcome = await waiting;
    expect((outcome.error as { code?: string }).code).toBe('E_TRANSPORT_CLOSED');
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  }, 30_000);
});
