import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { RedisInstrumentation } from '@app/redis';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { LogCapture, REDIS_URL, deleteKeysWithPrefix, eventually, uniqueKeyPrefix } from '@test/harness';
import { BEHAVIOUR, type StreamsBehaviour, streamsFixtureController } from './fixtures/streams-fixtures.js';
import { Recorder, startMicroservice } from './fixtures/transport-fixtures.js';

const keyPrefix = uniqueKeyPrefix('transport-streams-junk');
const ns = 'junk';
const group = 'streams-junk-spec';
const MB = 1_048_576;

function fieldsOf(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]] = fields[i + 1];
  return out;
}

/** Entries anyone who can XADD might append: missing fields, binary, JSON of every shape, huge values. */
function junkEntries(): Array<Array<string | Buffer>> {
  const sampled = fc.sample(
    fc.oneof(
      // No packet field at all.
      fc
        .array(
          fc.tuple(
            fc.string({ minLength: 1, maxLength: 20 }).filter((name) => name !== 'p'),
            fc.string(),
          ),
          {
            minLength: 1,
            maxLength: 5,
          },
        )
        .map((pairs) => pairs.flat()),
      // The packet field holding arbitrary bytes, JSON of any shape, or text.
      fc.uint8Array({ minLength: 1, maxLength: 512 }).map((bytes) => ['p', Buffer.from(bytes)]),
      fc.json().map((json) => ['p', json]),
      fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ['p', text]),
    ),
    { numRuns: 120, seed: 19_013 },
  );
  return [
    ...sampled,
    ['p', ''],
    ['p', 'null'],
    ['p', '{"pattern":5,"data":{"$t":"bigint","v":"x"}}'],
    ['p', Buffer.alloc(2 * MB, 0xfe)],
    ['q', 'y'.repeat(2 * MB)],
    Array.from({ length: 10_000 }, (_, i) => `f${i}`),
  ];
}

describe('RedisTransportServer (streams) › junk XADDed to a stream it reads', () => {
  const recorder = new Recorder();
  const behaviour: StreamsBehaviour = { running: 0, maxRunning: 0, slowMs: 10, flakyAttempts: new Map() };
  const logs = new LogCapture();
  let app: INestMicroservice;
  let server: RedisTransportServer;
  let client: RedisTransportClient;
  let redis: Redis;
  let stream: string;
  const instrumentation = new RedisInstrumentation();
  let counted = 0;
  instrumentation.on('input.rejected', ({ source }) => {
    if (source === 'transport.stream') counted++;
  });

  const pending = async () => Number(((await redis.xpending(stream, group)) as [number])[0]);
  const malformedLines = () => logs.lines.filter((line) => line.includes('Malformed entry'));

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    server = new RedisTransportServer({
      url: REDIS_URL,
      keyPrefix,
      mode: 'streams',
      streams: { group, maxAttempts: 2, retryDelay: 10 },
      instrumentation,
    });
    app = await startMicroservice(server, streamsFixtureController(ns), recorder, logs.logger, [
      { provide: BEHAVIOUR, useValue: behaviour },
    ]);
    client = new RedisTransportClient({ url: REDIS_URL, keyPrefix, mode: 'streams' });
    await client.connect();
    stream = server.streamKey(`${ns}.created`);
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    if (redis) await deleteKeysWithPrefix(redis, keyPrefix);
    redis?.disconnect();
  });

  it('survives every entry, dead-letters the malformed ones with one warning per interval, and keeps delivering', async () => {
    const started = Date.now();
    const junk = junkEntries();
    const pipeline = redis.pipeline();
    for (const fields of junk) pipeline.xadd(stream, '*', ...fields);
    await pipeline.exec();

    const good = await lastValueFrom(client.emit<string>(`${ns}.created`, { after: 'junk' }));
    expect(await eventually(() => recorder.events.some((e) => (e.data as { id: string }).id === good), 30_000)).toBe(
      true,
    );
    expect(await eventually(async () => (await pending()) === 0, 30_000)).toBe(true);

    const dead = await redis.xlen(server.deadLetterKey(`${ns}.created`));
    // Every entry was either handled or dead-lettered: none is left behind.
    expect(dead).toBeGreaterThanOrEqual(4);
    // Each malformed entry is counted (nest_redis_untrusted_input_rejected_total{source="transport.stream"}).
    expect(counted).toBeGreaterThanOrEqual(dead);
    const lines = malformedLines();
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThan(dead);
    expect(lines.length).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 5_000) + 1);
  }, 60_000);

  it('keeps an excerpt, the size and the sha256 of an oversized payload in its dead letter, not the payload', async () => {
    const payload = 'z'.repeat(5 * MB);
    const id = await redis.xadd(stream, '*', 'p', payload);
    const deadKey = server.deadLetterKey(`${ns}.created`);
    let letter: Record<string, string> | undefined;
    expect(
      await eventually(async () => {
        const entries = await redis.xrange(deadKey, '-', '+');
        const found = entries.map(([, fields]) => fieldsOf(fields)).find((fields) => fields.id === id);
        letter = found;
        return found !== undefined;
      }, 30_000),
    ).toBe(true);
    expect(letter).toMatchObject({
      id,
      stream,
      payload: 'z'.repeat(1_024),
      payloadBytes: String(5 * MB),
      payloadSha256: createHash('sha256').update(payload).digest('hex'),
      payloadTruncated: '1',
    });
    expect(letter!.error).toMatch(/^malformed payload: payload of 5242880 bytes exceeds maxPayloadBytes 1048576/);
    expect(await redis.memory('USAGE', deadKey)).toBeLessThan(MB);
  }, 60_000);

  it('reports how many malformed-entry warnings it suppressed with the next one', async () => {
    for (let i = 0; i < 5; i++) await redis.xadd(stream, '*', 'p', '{not json');
    // The next warning is due once the 5 s interval since the last one has passed.
    await new Promise((resolve) => setTimeout(resolve, 5_200));
    const before = malformedLines().length;
    await redis.xadd(stream, '*', 'p', '{not json either');
    expect(await eventually(() => malformedLines().length > before, 10_000)).toBe(true);
    expect(malformedLines().at(-1)).toMatch(/\((\d+) similar message\(s\) suppressed\)$/);
    const suppressed = Number(/\((\d+) similar/.exec(malformedLines().at(-1)!)![1]);
    expect(suppressed).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
