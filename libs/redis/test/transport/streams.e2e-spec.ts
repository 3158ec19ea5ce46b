import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestMicroservice } from '@nestjs/common';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { RedisOptionsError } from '@app/redis';
import {
  IdempotencyInProgressError,
  RedisIdempotency,
  RedisTransportClient,
  RedisTransportServer,
} from '@app/redis/transport';
import { LogCapture, REDIS_URL, eventually, uniqueKeyPrefix, useRedisClient } from '@test/harness';
import { BEHAVIOUR, type StreamsBehaviour, streamsFixtureController } from './fixtures/streams-fixtures.js';
import { Recorder, startMicroservice } from './fixtures/transport-fixtures.js';

const keyPrefix = uniqueKeyPrefix('transport-streams');
const reclaimPrefix = uniqueKeyPrefix('transport-streams-reclaim');
const shutdownPrefix = uniqueKeyPrefix('transport-streams-shutdown');
const idempotencyPrefix = uniqueKeyPrefix('transport-idempotency');
const redis = useRedisClient({ deleteKeysUnder: [keyPrefix, reclaimPrefix, shutdownPrefix, idempotencyPrefix] });
const ns = 'evt';
const group = 'streams-spec';

function newBehaviour(slowMs = 50): StreamsBehaviour {
  return { running: 0, maxRunning: 0, slowMs, flakyAttempts: new Map() };
}

async function pendingCount(redis: Redis, stream: string): Promise<number> {
  const summary = (await redis.xpending(stream, group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

function fieldsOf(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) out[fields[i]] = fields[i + 1];
  return out;
}

describe('RedisTransportServer / RedisTransportClient › streams mode', () => {
  const recorder = new Recorder();
  const behaviour = newBehaviour();
  const logs = new LogCapture();
  const reported: Array<{ pattern: string; mode: string; outcome: string }> = [];
  const instrumentation = {
    emit: (_event: 'transport.handled', payload: { pattern: string; mode: string; outcome: string }) =>
      void reported.push(payload),
  };
  let app: INestMicroservice;
  let server: RedisTransportServer;
  let client: RedisTransportClient;

  const emit = (pattern: string, data: unknown) => lastValueFrom(client.emit<string>(`${ns}.${pattern}`, data));

  beforeAll(async () => {
    server = new RedisTransportServer({
      url: REDIS_URL,
      keyPrefix,
      mode: 'streams',
      streams: { group, maxAttempts: 3, retryDelay: 10, concurrency: { [`${ns}.slow`]: 3, '*': 8 } },
      instrumentation: instrumentation as never,
    });
    app = await startMicroservice(server, streamsFixtureController(ns), recorder, logs.logger, [
      { provide: BEHAVIOUR, useValue: behaviour },
    ]);
    client = new RedisTransportClient({ url: REDIS_URL, keyPrefix, mode: 'streams' });
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
  });

  it('appends emit() to the pattern’s stream under keyPrefix and resolves with the entry id', async () => {
    const id = await emit('created', { n: 1 });
    expect(id).toMatch(/^\d+-\d+$/);
    expect(server.streamKey(`${ns}.created`)).toBe(`${keyPrefix}stream:{${ns}.created}`);
    const entries = await redis.xrange(server.streamKey(`${ns}.created`), id, id);
    expect(entries).toHaveLength(1);
  });

  it('hands the entry to the handler with its context, then acknowledges it', async () => {
    const start = recorder.events.length;
    const at = new Date('2026-11-23T09:00:00.000Z');
    const id = await emit('created', { at, big: 12345678901234567890n });
    await eventually(() => recorder.events.some((e) => (e.data as { id: string }).id === id));
    const seen = recorder.events.slice(start).find((e) => (e.data as { id: string }).id === id)!.data;
    expect(seen).toEqual({
      data: { at, big: 12345678901234567890n },
      types: { at: 'Date', big: 'bigint' },
      stream: `${keyPrefix}stream:{${ns}.created}`,
      id,
      deliveryCount: 1,
      attempt: 1,
      group,
    });
    expect(await eventually(async () => (await pendingCount(redis, server.streamKey(`${ns}.created`))) === 0)).toBe(
      true,
    );
  });

  it('retries a failing handler with backoff and acknowledges once it succeeds', async () => {
    await emit('flaky', { id: 'f1' });
    expect(await eventually(() => recorder.events.some((e) => e.pattern === 'flaky'))).toBe(true);
    expect(behaviour.flakyAttempts.get('f1')).toBe(2);
    expect(await eventually(async () => (await pendingCount(redis, server.streamKey(`${ns}.flaky`))) === 0)).toBe(true);
  });

  it('moves an entry whose handler always throws to the dead-letter stream after maxAttempts, with the error', async () => {
    const id = await emit('poison', { reason: 'venue closed' });
    const dead = server.deadLetterKey(`${ns}.poison`);
    expect(await eventually(async () => (await redis.xlen(dead)) === 1)).toBe(true);
    const [[, fields]] = await redis.xrange(dead, '-', '+');
    expect(fieldsOf(fields)).toMatchObject({
      pattern: `${ns}.poison`,
      stream: server.streamKey(`${ns}.poison`),
      id,
      group,
      attempts: '3',
      error: 'cannot handle: venue closed',
    });
    expect(JSON.parse(fieldsOf(fields).payload)).toMatchObject({ data: { reason: 'venue closed' } });
    expect(await pendingCount(redis, server.streamKey(`${ns}.poison`))).toBe(0);
    // Each run is reported for the metrics: two failures, then the dead-lettering.
    expect(reported.filter((r) => r.pattern === `${ns}.poison`).map((r) => r.outcome)).toEqual([
      'failed',
      'failed',
      'dead-lettered',
    ]);
  });

  it('dead-letters malformed entries and keeps consuming', async () => {
    const stream = server.streamKey(`${ns}.created`);
    const bad1 = await redis.xadd(stream, '*', 'p', '{not json');
    const bad2 = await redis.xadd(stream, '*', 'other', 'field');
    const good = await emit('created', { after: 'malformed' });
    expect(await eventually(() => recorder.events.some((e) => (e.data as { id: string }).id === good))).toBe(true);
    const dead = server.deadLetterKey(`${ns}.created`);
    expect(await eventually(async () => (await redis.xlen(dead)) === 2)).toBe(true);
    const deadEntries = (await redis.xrange(dead, '-', '+')).map(([, f]) => fieldsOf(f));
    expect(deadEntries.map((e) => e.id).sort()).toEqual([bad1, bad2].sort());
    expect(deadEntries.every((e) => e.error.startsWith('malformed payload'))).toBe(true);
    expect(logs.text).toMatch(/Malformed entry/);
    expect(await eventually(async () => (await pendingCount(redis, stream)) === 0)).toBe(true);
  });

  it('runs at most `concurrency` handlers of a pattern at once', async () => {
    const start = recorder.events.filter((e) => e.pattern === 'slow').length;
    await Promise.all(Array.from({ length: 12 }, (_, i) => emit('slow', { i })));
    expect(await eventually(() => recorder.events.filter((e) => e.pattern === 'slow').length === start + 12)).toBe(
      true,
    );
    expect(behaviour.maxRunning).toBe(3);
  });
});

describe('RedisTransportServer › streams mode › reclaiming', () => {
  it('reclaims an entry a crashed consumer left pending for claimIdle, with the delivery count raised', async () => {
    const prefix = reclaimPrefix;
    const recorder = new Recorder();
    const probe = new RedisTransportServer({ url: REDIS_URL, keyPrefix: prefix, mode: 'streams', streams: { group } });
    const stream = probe.streamKey(`${ns}.created`);
    // A consumer that read an entry and died before acknowledging it.
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    const id = await redis.xadd(stream, '*', 'p', JSON.stringify({ pattern: `${ns}.created`, data: { orphan: true } }));
    await redis.xreadgroup('GROUP', group, 'crashed-consumer', 'COUNT', 1, 'STREAMS', stream, '>');
    const server = new RedisTransportServer({
      url: REDIS_URL,
      keyPrefix: prefix,
      mode: 'streams',
      streams: { group, claimIdle: 300, claimInterval: 100 },
    });
    const app = await startMicroservice(server, streamsFixtureController(ns), recorder, false, [
      { provide: BEHAVIOUR, useValue: newBehaviour() },
    ]);
    try {
      expect(await eventually(() => recorder.events.length === 1, 5_000)).toBe(true);
      expect(recorder.events[0].data).toMatchObject({ id, deliveryCount: 2, attempt: 2, data: { orphan: true } });
      expect(await eventually(async () => (await pendingCount(redis, stream)) === 0)).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describe('RedisTransportServer › streams mode › graceful shutdown', () => {
  it('stops reading, lets in-flight handlers finish, acknowledges them, then closes', async () => {
    const prefix = shutdownPrefix;
    const recorder = new Recorder();
    const behaviour = newBehaviour(400);
    const server = new RedisTransportServer({
      url: REDIS_URL,
      keyPrefix: prefix,
      mode: 'streams',
      streams: { group, concurrency: 5 },
    });
    const app = await startMicroservice(server, streamsFixtureController(ns), recorder, false, [
      { provide: BEHAVIOUR, useValue: behaviour },
    ]);
    const client = new RedisTransportClient({ url: REDIS_URL, keyPrefix: prefix, mode: 'streams' });
    try {
      await Promise.all(Array.from({ length: 5 }, (_, i) => lastValueFrom(client.emit(`${ns}.slow`, { i }))));
      expect(await eventually(() => behaviour.running === 5, 3_000)).toBe(true);
      await app.close();
      expect(recorder.events).toHaveLength(5);
      expect(await pendingCount(redis, server.streamKey(`${ns}.slow`))).toBe(0);
      // Emitted after shutdown: stays in the stream for the next consumer.
      await lastValueFrom(client.emit(`${ns}.slow`, { i: 99 }));
      await new Promise((r) => setTimeout(r, 200));
      expect(recorder.events).toHaveLength(5);
    } finally {
      await client.close();
      await app.close();
    }
  });
});

describe('RedisIdempotency', () => {
  const prefix = idempotencyPrefix;
  let idempotency: RedisIdempotency;

  beforeAll(() => {
    idempotency = new RedisIdempotency(redis, { keyPrefix: `${prefix}idem:`, ttl: 60_000 });
  });

  it('runs the work once per key and skips it afterwards', async () => {
    let runs = 0;
    await expect(idempotency.once('booking:1', () => ++runs)).resolves.toEqual({ skipped: false, result: 1 });
    await expect(idempotency.once('booking:1', () => ++runs)).resolves.toEqual({ skipped: true });
    expect(runs).toBe(1);
    const ttl = await redis.pttl(`${prefix}idem:booking:1`);
    expect(ttl).toBeGreaterThan(50_000);
  });

  it('releases the key when the work throws, so a retry runs it', async () => {
    await expect(idempotency.once('booking:2', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    await expect(idempotency.once('booking:2', () => 'ok')).resolves.toEqual({ skipped: false, result: 'ok' });
  });

  it('throws IdempotencyInProgressError while another run holds the key', async () => {
    let release!: () => void;
    const first = idempotency.once('booking:3', () => new Promise<void>((r) => (release = r)));
    await eventually(async () => (await redis.get(`${prefix}idem:booking:3`)) === 'running');
    await expect(idempotency.once('booking:3', () => 'again')).rejects.toBeInstanceOf(IdempotencyInProgressError);
    release();
    await first;
  });

  it('rejects invalid options with RedisOptionsError naming the field', () => {
    expect(() => new RedisIdempotency(redis, { ttl: -1 })).toThrow(RedisOptionsError);
    expect(() => new RedisIdempotency(redis, { ttl: -1 })).toThrow(/"ttl"/);
  });
});

describe('RedisTransportServer › streams mode › startup checks', () => {
  it('fails listen() with a RedisOptionsError for a wildcard event pattern, and leaves nothing open', async () => {
    const server = new RedisTransportServer({ url: REDIS_URL, mode: 'streams', streams: { group } });
    server.addHandler('booking.*', async () => undefined, true);
    const error = await new Promise<unknown>((resolve) => void server.listen(resolve));
    expect(error).toBeInstanceOf(RedisOptionsError);
    expect((error as Error).message).toMatch(/"booking\.\*".*streams mode/);
    // Every connection it opened was closed again.
    expect(() => server.unwrap()).toThrow(/Not initialized/);
    await server.close();
  });
});
