import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  type INestApplication,
  type INestApplicationContext,
  type INestMicroservice,
  Module,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, MessagePattern, Payload, RedisContext, ServerRedis } from '@nestjs/microservices';
import { type Span, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { CacheService, LockNotAcquiredError, LockService, RedisInstrumentation, RedisModule } from '@app/redis';
import { RateLimitModule, RateLimiter } from '@app/redis/rate-limit';
import { RedisTracingModule } from '@app/redis/tracing';
import { RedisTransportClient } from '@app/redis/transport';
import {
  REDIS_URL,
  RedisServerProcess,
  bootstrapTestingApp,
  eventually,
  uniqueKeyPrefix,
  useRedisClient,
} from '@test/harness';
import { PATTERNS, WORKER_GROUP, channelPrefixes, startTracedWorker } from './fixtures/traced-worker.js';

const keyPrefix = uniqueKeyPrefix('tracing');
const redis = useRedisClient({ deleteKeysUnder: keyPrefix });
const prefixes = channelPrefixes(keyPrefix);
/** Put in every payload and cached value: no span attribute, event or status may ever contain it. */
const SECRET = 'card-4242-secret-value';

/** One in-memory SDK pipeline: each app gets its own, so a test can tell which app recorded which span. */
function pipeline() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider, tracer: provider.getTracer('test') };
}

const api = pipeline();
const worker = pipeline();
const contextManager = new AsyncLocalStorageContextManager();

function spansNamed(exporter: InMemorySpanExporter, name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.name === name);
}

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** Runs `fn` inside a root span of the API app (the HTTP request, say), returning its result and the span. */
async function inRootSpan<T>(fn: () => Promise<T>): Promise<{ value: T; root: Span }> {
  return api.tracer.startActiveSpan('request', async (root) => {
    try {
      return { value: await fn(), root };
    } finally {
      root.end();
    }
  });
}

beforeAll(() => {
  // What an SDK's registration does (NodeSDK, NodeTracerProvider#register): context across awaits, W3C propagation.
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

afterAll(() => {
  context.disable();
  propagation.disable();
});

afterEach(() => {
  api.exporter.reset();
  worker.exporter.reset();
});

describe('RedisTracingModule: transport spans and trace context between two apps (real SDK, real Redis)', () => {
  let workerApp: INestApplication;
  let apiApp: INestApplicationContext;
  let seen: { metadata: Array<Record<string, string> | undefined>; booked: unknown[] };
  let rpc: RedisTransportClient;
  let streamEvents: RedisTransportClient;

  beforeAll(async () => {
    ({ app: workerApp, seen } = await startTracedWorker({
      url: REDIS_URL,
      keyPrefix,
      tracerProvider: worker.provider,
    }));
    apiApp = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix }),
      RedisTracingModule.forRoot({ tracerProvider: api.provider }),
      RateLimitModule.forRoot({ limits: { quotes: { algorithm: 'sliding-window', limit: 1, window: 60_000 } } }),
    ]);
    const instrumentation = apiApp.get(RedisInstrumentation);
    rpc = new RedisTransportClient({ url: REDIS_URL, keyPrefix, channelPrefix: prefixes.pubsub, instrumentation });
    streamEvents = new RedisTransportClient({
      url: REDIS_URL,
      keyPrefix,
      channelPrefix: prefixes.streams,
      mode: 'streams',
      instrumentation,
    });
    await Promise.all([rpc.connect(), streamEvents.connect()]);
  });

  afterAll(async () => {
    await Promise.all([rpc?.close(), streamEvents?.close()]);
    await Promise.all([apiApp?.close(), workerApp?.close()]);
  });

  it('send → handler → reply over pub/sub: the handler span is the child of the send span, and parents the work inside the handler', async () => {
    seen.metadata.length = 0;
    const { value, root } = await inRootSpan(() =>
      firstValueFrom(rpc.send<{ total: number; activeSpan: boolean }>(PATTERNS.quote, { nights: 3, card: SECRET })),
    );
    expect(value).toEqual({ total: 300, activeSpan: true });

    const [send] = spansNamed(api.exporter, `send ${PATTERNS.quote}`);
    expect(send.kind).toBe(SpanKind.CLIENT);
    expect(send.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(parentOf(send)).toBe(root.spanContext().spanId);
    expect(send.status.code).toBe(SpanStatusCode.UNSET);
    expect(send.attributes).toEqual({
      'messaging.system': 'redis',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': PATTERNS.quote,
      'messaging.message.id': expect.any(String),
      'nest_redis.transport.pattern': PATTERNS.quote,
      'nest_redis.transport.mode': 'pubsub',
    });

    expect(await eventually(() => spansNamed(worker.exporter, 'worker.price').length === 1)).toBe(true);
    const [handled] = spansNamed(worker.exporter, `process ${PATTERNS.quote}`);
    expect(handled.kind).toBe(SpanKind.SERVER);
    expect(handled.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(parentOf(handled)).toBe(send.spanContext().spanId);
    expect(handled.attributes).toEqual({
      'messaging.system': 'redis',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': `${prefixes.pubsub}${PATTERNS.quote}`,
      'messaging.message.id': send.attributes['messaging.message.id'],
      'nest_redis.transport.pattern': PATTERNS.quote,
      'nest_redis.transport.mode': 'pubsub',
    });
    const [work] = spansNamed(worker.exporter, 'worker.price');
    expect(parentOf(work)).toBe(handled.spanContext().spanId);
    // On the wire: W3C traceparent in the packet's metadata, which the handler's context exposes as Nest's does.
    expect(seen.metadata[0]).toEqual({
      traceparent: `00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`,
    });
  });

  it("keeps the metadata Nest 12's setOnDispatchHook put on the packet, adding the trace context to it", async () => {
    const hooked = new RedisTransportClient({
      url: REDIS_URL,
      keyPrefix,
      channelPrefix: prefixes.pubsub,
      instrumentation: apiApp.get(RedisInstrumentation),
    });
    hooked.setOnDispatchHook((packet) => {
      (packet as { metadata?: Record<string, string> }).metadata = { tenant: 't-1' };
    });
    try {
      seen.metadata.length = 0;
      await inRootSpan(() => firstValueFrom(hooked.send(PATTERNS.quote, { nights: 1 })));
      const [send] = spansNamed(api.exporter, `send ${PATTERNS.quote}`);
      expect(seen.metadata).toEqual([
        { tenant: 't-1', traceparent: `00-${send.spanContext().traceId}-${send.spanContext().spanId}-01` },
      ]);
    } finally {
      await hooked.close();
    }
  });

  it('a refused request marks the send and the handler span failed, with the error kind and never its text', async () => {
    await inRootSpan(() => firstValueFrom(rpc.send(PATTERNS.refuse, { card: SECRET })).catch(() => undefined));
    const [send] = spansNamed(api.exporter, `send ${PATTERNS.refuse}`);
    expect(send.status).toEqual({ code: SpanStatusCode.ERROR, message: 'error' });
    expect(send.attributes['error.type']).toBe('error');
    expect(await eventually(() => spansNamed(worker.exporter, `process ${PATTERNS.refuse}`).length === 1)).toBe(true);
    const [handled] = spansNamed(worker.exporter, `process ${PATTERNS.refuse}`);
    expect(parentOf(handled)).toBe(send.spanContext().spanId);
    expect(handled.status.code).toBe(SpanStatusCode.ERROR);
    expect(JSON.stringify([send.status, handled.status])).not.toContain('refused');
  });

  it('a send nobody answers ends its span at sendTimeout, failed with the timeout error code', async () => {
    const impatient = new RedisTransportClient({
      url: REDIS_URL,
      keyPrefix,
      channelPrefix: prefixes.pubsub,
      sendTimeout: 200,
      instrumentation: apiApp.get(RedisInstrumentation),
    });
    try {
      await inRootSpan(() => firstValueFrom(impatient.send('tracing.nobody', {})).catch(() => undefined));
      const [send] = spansNamed(api.exporter, 'send tracing.nobody');
      expect(send.status).toEqual({ code: SpanStatusCode.ERROR, message: 'E_TRANSPORT_TIMEOUT' });
      expect(send.attributes['error.type']).toBe('E_TRANSPORT_TIMEOUT');
    } finally {
      await impatient.close();
    }
  });

  it('emit over streams: the consumer span is the child of the emit span, with the entry id, stream and group', async () => {
    seen.booked.length = 0;
    const { value: entryId, root } = await inRootSpan(() =>
      lastValueFrom(streamEvents.emit<string>(PATTERNS.booked, { id: 1, card: SECRET })),
    );
    const [emit] = spansNamed(api.exporter, `emit ${PATTERNS.booked}`);
    expect(emit.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(emit)).toBe(root.spanContext().spanId);
    expect(emit.attributes).toEqual({
      'messaging.system': 'redis',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'emit',
      'messaging.destination.name': PATTERNS.booked,
      'messaging.message.id': entryId,
      'nest_redis.transport.pattern': PATTERNS.booked,
      'nest_redis.transport.mode': 'streams',
    });

    expect(await eventually(() => spansNamed(worker.exporter, 'worker.store').length === 1)).toBe(true);
    const [processed] = spansNamed(worker.exporter, `process ${PATTERNS.booked}`);
    expect(processed.kind).toBe(SpanKind.CONSUMER);
    expect(processed.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(parentOf(processed)).toBe(emit.spanContext().spanId);
    expect(processed.attributes).toEqual({
      'messaging.system': 'redis',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': `${keyPrefix}stream:{${PATTERNS.booked}}`,
      'messaging.message.id': entryId,
      'messaging.consumer.group.name': WORKER_GROUP,
      'nest_redis.transport.pattern': PATTERNS.booked,
      'nest_redis.transport.mode': 'streams',
      'nest_redis.transport.attempt': 1,
    });
    const [store] = spansNamed(worker.exporter, 'worker.store');
    expect(parentOf(store)).toBe(processed.spanContext().spanId);
    // The stream entry holds the traceparent next to the payload (a plain JSON packet, readable by any peer).
    const [[, fields]] = await redis.xrange(`${keyPrefix}stream:{${PATTERNS.booked}}`, entryId, entryId);
    expect(fields[0]).toBe('p');
    expect(JSON.parse(fields[1])).toMatchObject({
      pattern: PATTERNS.booked,
      metadata: { traceparent: `00-${emit.spanContext().traceId}-${emit.spanContext().spanId}-01` },
    });
  });

  it('emit over pub/sub: the consumer span is the child of the emit span', async () => {
    const events = new RedisTransportClient({
      url: REDIS_URL,
      keyPrefix,
      channelPrefix: prefixes.pubsub,
      instrumentation: apiApp.get(RedisInstrumentation),
    });
    try {
      const before = seen.booked.length;
      const { root } = await inRootSpan(() => lastValueFrom(events.emit(PATTERNS.booked, { id: 2, card: SECRET })));
      expect(await eventually(() => seen.booked.length === before + 1)).toBe(true);
      const [emit] = spansNamed(api.exporter, `emit ${PATTERNS.booked}`);
      expect(emit.attributes['nest_redis.transport.mode']).toBe('pubsub');
      expect(await eventually(() => spansNamed(worker.exporter, `process ${PATTERNS.booked}`).length === 1)).toBe(true);
      const [processed] = spansNamed(worker.exporter, `process ${PATTERNS.booked}`);
      expect(processed.kind).toBe(SpanKind.CONSUMER);
      expect(processed.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(parentOf(processed)).toBe(emit.spanContext().spanId);
      expect(processed.attributes['messaging.destination.name']).toBe(`${prefixes.pubsub}${PATTERNS.booked}`);
    } finally {
      await events.close();
    }
  });

  it('cache lookups: a miss then a hit, with the cache name, key and tier, under the active span', async () => {
    const cache = apiApp.get(CacheService);
    const load = () => ({ card: SECRET });
    const { root } = await inRootSpan(async () => {
      await cache.wrap('room-7', load, { name: 'quotes', ttl: 60_000 });
      return cache.wrap('room-7', load, { name: 'quotes', ttl: 60_000 });
    });
    const lookups = spansNamed(api.exporter, 'cache.lookup quotes');
    expect(lookups.map((span) => span.attributes['nest_redis.cache.outcome'])).toEqual(['miss', 'hit']);
    for (const span of lookups) expect(parentOf(span)).toBe(root.spanContext().spanId);
    expect(lookups[1].kind).toBe(SpanKind.INTERNAL);
    expect(lookups[1].attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'cache.lookup',
      'nest_redis.cache.name': 'quotes',
      'nest_redis.cache.key': 'room-7',
      'nest_redis.cache.outcome': 'hit',
      'nest_redis.cache.tier': 'redis',
    });
  });

  it('locks: the acquisition (wait, fencing token) and the hold until release; a wait that times out on a held lock is a failed acquisition', async () => {
    const locks = apiApp.get(LockService);
    const { root } = await inRootSpan(async () => {
      const lock = await locks.acquire('room-7:2026-01-01', { ttl: 5_000 });
      await expect(locks.acquire('room-7:2026-01-01', { ttl: 5_000, waitTimeout: 150 })).rejects.toBeInstanceOf(
        LockNotAcquiredError,
      );
      await lock.release();
      return lock.fencingToken;
    });
    const acquisitions = spansNamed(api.exporter, 'lock.acquire');
    expect(acquisitions).toHaveLength(2);
    const [acquired, failed] = acquisitions;
    expect(parentOf(acquired)).toBe(root.spanContext().spanId);
    expect(acquired.attributes).toEqual({
      'db.system.name': 'redis',
      'nest_redis.lock.mode': 'single',
      'nest_redis.lock.resource': 'room-7:2026-01-01',
      'nest_redis.lock.outcome': 'acquired',
      'nest_redis.lock.wait_ms': expect.any(Number),
      'nest_redis.lock.fencing_token': expect.any(Number),
    });
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes).toMatchObject({ 'nest_redis.lock.outcome': 'failed', 'error.type': 'contention' });
    expect(failed.attributes['nest_redis.lock.wait_ms']).toBeGreaterThanOrEqual(150);
    const [hold] = spansNamed(api.exporter, 'lock.hold');
    expect(parentOf(hold)).toBe(root.spanContext().spanId);
    expect(hold.attributes).toMatchObject({
      'nest_redis.lock.resource': 'room-7:2026-01-01',
      'nest_redis.lock.outcome': 'released',
      'nest_redis.lock.fencing_token': acquired.attributes['nest_redis.lock.fencing_token'],
    });
    expect(hold.attributes['nest_redis.lock.held_ms']).toBeGreaterThanOrEqual(150);
    expect(hold.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('rate-limit decisions are events on the active span (allowed, then refused)', async () => {
    const limiter = apiApp.get(RateLimiter);
    await inRootSpan(async () => {
      await limiter.consume('quotes', 'partner-1');
      await limiter.consume('quotes', 'partner-1');
    });
    const [root] = spansNamed(api.exporter, 'request');
    expect(root.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'nest_redis.rate_limit.decision',
        {
          'nest_redis.rate_limit.name': 'quotes',
          'nest_redis.rate_limit.kind': 'limiter',
          'nest_redis.rate_limit.allowed': true,
          'nest_redis.rate_limit.degraded': false,
        },
      ],
      [
        'nest_redis.rate_limit.decision',
        {
          'nest_redis.rate_limit.name': 'quotes',
          'nest_redis.rate_limit.kind': 'limiter',
          'nest_redis.rate_limit.allowed': false,
          'nest_redis.rate_limit.degraded': false,
        },
      ],
    ]);
  });

  it('no span of either app holds a payload or cached value, in attributes, events or status', async () => {
    await inRootSpan(async () => {
      await firstValueFrom(rpc.send(PATTERNS.quote, { nights: 1, card: SECRET }));
      await lastValueFrom(streamEvents.emit(PATTERNS.booked, { id: 3, card: SECRET }));
      await apiApp.get(CacheService).wrap('room-8', () => ({ card: SECRET }), { name: 'quotes' });
    });
    expect(await eventually(() => spansNamed(worker.exporter, `process ${PATTERNS.booked}`).length === 1)).toBe(true);
    const spans = [...api.exporter.getFinishedSpans(), ...worker.exporter.getFinishedSpans()];
    expect(spans.length).toBeGreaterThanOrEqual(6);
    const recorded = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events, s.status]));
    expect(recorded).not.toContain(SECRET);
    expect(recorded).not.toContain('card');
  });
});

describe("RedisTracingModule: a traced packet meets Nest's built-in Redis server (Transport.REDIS)", () => {
  const pattern = `${keyPrefix}interop.echo`;
  let nestServer: INestMicroservice;
  let apiApp: INestApplicationContext;
  let client: RedisTransportClient;

  @Controller()
  class BuiltInEcho {
    @MessagePattern<string>(pattern)
    echo(@Payload() data: unknown, @Ctx() ctx: RedisContext) {
      return { data, metadata: ctx.getMetadata() };
    }
  }

  @Module({ controllers: [BuiltInEcho] })
  class BuiltInModule {}

  beforeAll(async () => {
    const { hostname: host, port } = new URL(REDIS_URL);
    nestServer = await NestFactory.createMicroservice(BuiltInModule, {
      strategy: new ServerRedis({ host, port: Number(port || 6379) }),
      logger: ['error'],
    });
    await nestServer.listen();
    apiApp = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix }),
      RedisTracingModule.forRoot({ tracerProvider: api.provider }),
    ]);
    client = new RedisTransportClient({ url: REDIS_URL, instrumentation: apiApp.get(RedisInstrumentation) });
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all([apiApp?.close(), nestServer?.close()]);
  });

  it('reads the payload as before and hands the traceparent to its handler intact (RedisContext.getMetadata())', async () => {
    const reply = await inRootSpan(() =>
      firstValueFrom(client.send<{ data: unknown; metadata: unknown }>(pattern, { nights: 2 })),
    );
    const [send] = spansNamed(api.exporter, `send ${pattern}`);
    expect(reply.value).toEqual({
      data: { nights: 2 },
      metadata: { traceparent: `00-${send.spanContext().traceId}-${send.spanContext().spanId}-01` },
    });
  });
});

describe('RedisTracingModule: a cache lookup that fails open (throwaway redis-server stopped)', () => {
  let server: RedisServerProcess;
  let app: INestApplicationContext;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: server.url, keyPrefix, cache: { commandTimeout: 100, errorLogInterval: 60_000 } }),
      RedisTracingModule.forRoot({ tracerProvider: api.provider, recordCacheKeys: false }),
    ]);
  });

  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('records the Redis error kind as a fail_open event on a miss served by the loader (status left unset)', async () => {
    const cache = app.get(CacheService);
    await cache.wrap('warm', () => 1, { name: 'rooms' });
    await server.stop({ keepDir: true });
    api.exporter.reset();
    await expect(cache.wrap('room-9', () => 2, { name: 'rooms' })).resolves.toBe(2);
    const [lookup] = spansNamed(api.exporter, 'cache.lookup rooms');
    expect(lookup.attributes['nest_redis.cache.outcome']).toBe('miss');
    expect(lookup.attributes['nest_redis.cache.key']).toBeUndefined();
    expect(lookup.status.code).toBe(SpanStatusCode.UNSET);
    expect(lookup.events.map((event) => event.name)).toEqual(['nest_redis.cache.fail_open']);
    expect(lookup.events[0].attributes?.['error.type']).toEqual(expect.any(String));
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
