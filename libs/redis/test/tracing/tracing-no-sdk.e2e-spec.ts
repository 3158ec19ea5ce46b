import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { CacheService, LockService, RedisInstrumentation, RedisModule } from '@app/redis';
import { RedisTracingModule } from '@app/redis/tracing';
import { RedisTransportClient } from '@app/redis/transport';
import { REDIS_URL, bootstrapTestingApp, eventually, uniqueKeyPrefix, useRedisClient } from '@test/harness';
import { PATTERNS, channelPrefixes, startTracedWorker } from './fixtures/traced-worker.js';

const keyPrefix = uniqueKeyPrefix('tracing-no-sdk');
const redis = useRedisClient({ deleteKeysUnder: keyPrefix });
const prefixes = channelPrefixes(keyPrefix);

// No SDK in this file: no tracer provider, context manager or propagator is registered (Jest gives each test file
// its own globals, so the other tracing files' registrations do not leak here).
describe('RedisTracingModule with no OpenTelemetry SDK registered', () => {
  let workerApp: INestApplication;
  let apiApp: INestApplicationContext;
  let seen: { metadata: Array<Record<string, string> | undefined>; booked: unknown[] };
  let rpc: RedisTransportClient;
  let events: RedisTransportClient;
  const started: string[] = [];

  beforeAll(async () => {
    ({ app: workerApp, seen } = await startTracedWorker({ url: REDIS_URL, keyPrefix }));
    apiApp = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix }),
      RedisTracingModule.forRoot(),
    ]);
    const instrumentation = apiApp.get(RedisInstrumentation);
    rpc = new RedisTransportClient({ url: REDIS_URL, keyPrefix, channelPrefix: prefixes.pubsub, instrumentation });
    events = new RedisTransportClient({
      url: REDIS_URL,
      keyPrefix,
      channelPrefix: prefixes.streams,
      mode: 'streams',
      instrumentation,
    });
  });

  afterAll(async () => {
    await Promise.all([rpc?.close(), events?.close()]);
    await Promise.all([apiApp?.close(), workerApp?.close()]);
  });

  it('records nothing and adds nothing to the wire, while cache, locks, send and emit work as without it', async () => {
    // The module is wired (the transport consults its tracer), yet every span it starts is the API's no-op one.
    expect(apiApp.get(RedisInstrumentation).transportTracer).toBeDefined();
    const probe = trace.getTracer('probe').startSpan('probe');
    expect(probe.isRecording()).toBe(false);

    const cache = apiApp.get(CacheService);
    expect(await cache.wrap('room-1', () => 'v', { name: 'rooms' })).toBe('v');
    expect(await cache.wrap('room-1', () => 'other', { name: 'rooms' })).toBe('v');
    await apiApp.get(LockService).using('room-1', {}, async (_signal, lock) => started.push(String(lock.fencingToken)));
    expect(started).toHaveLength(1);

    const reply = await firstValueFrom(rpc.send<{ total: number; activeSpan: boolean }>(PATTERNS.quote, { nights: 1 }));
    // No context manager: no span is ever active in the handler.
    expect(reply).toEqual({ total: 100, activeSpan: false });
    const entryId = await lastValueFrom(events.emit<string>(PATTERNS.booked, { id: 1 }));
    expect(await eventually(() => seen.booked.length === 1)).toBe(true);

    // No propagator: the packets carry no metadata, so they are exactly what they were without tracing.
    expect(seen.metadata).toEqual([undefined, undefined]);
    const [[, fields]] = await redis.xrange(`${keyPrefix}stream:{${PATTERNS.booked}}`, entryId, entryId);
    expect(JSON.parse(fields[1])).toEqual({ pattern: PATTERNS.booked, data: { id: 1 } });
  });
});
