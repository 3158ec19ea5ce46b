import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SpanKind, context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { RedisInstrumentation, RedisModule } from '@app/redis';
import { RedisTracingModule } from '@app/redis/tracing';
import { RedisTransportClient } from '@app/redis/transport';
import type { INestApplicationContext } from '@nestjs/common';
import {
  REDIS_URL,
  type ReadyWorker,
  bootstrapTestingApp,
  eventually,
  uniqueKeyPrefix,
  useRedisClient,
  whenReady,
} from '@test/harness';
import { PATTERNS, WORKER_GROUP, channelPrefixes } from './fixtures/traced-worker.js';

const keyPrefix = uniqueKeyPrefix('tracing-processes');
useRedisClient({ deleteKeysUnder: keyPrefix });
const prefixes = channelPrefixes(keyPrefix);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const workerScript = fileURLToPath(new URL('./fixtures/traced-worker.process.ts', import.meta.url));

/** A span as the worker process exported it (one `span {json}` line on its stdout). */
interface ExportedSpan {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}

function workerSpans(worker: ReadyWorker): ExportedSpan[] {
  return worker
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('span '))
    .map((line) => JSON.parse(line.slice('span '.length)) as ExportedSpan);
}

describe('Trace context across processes: an API app here, a worker process with its own registered SDK', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  let worker: ReadyWorker;
  let app: INestApplicationContext;
  let rpc: RedisTransportClient;
  let events: RedisTransportClient;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const child = spawn(
      process.execPath,
      ['--import', './src/runtime/register.mjs', workerScript, REDIS_URL, keyPrefix],
      { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    worker = await whenReady(child);
    app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix }),
      RedisTracingModule.forRoot({ tracerProvider: provider }),
    ]);
    const instrumentation = app.get(RedisInstrumentation);
    rpc = new RedisTransportClient({ url: REDIS_URL, keyPrefix, channelPrefix: prefixes.pubsub, instrumentation });
    events = new RedisTransportClient({
      url: REDIS_URL,
      keyPrefix,
      channelPrefix: prefixes.streams,
      mode: 'streams',
      instrumentation,
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([rpc?.close(), events?.close()]);
    await app?.close();
    if (worker) {
      worker.child.kill('SIGTERM');
      await worker.output.catch(() => undefined);
    }
    context.disable();
    propagation.disable();
  });

  it('send → handler → reply: the worker process records its handler span as the child of this process’ send span', async () => {
    const reply = await tracer.startActiveSpan('request', async (root) => {
      try {
        return await firstValueFrom(rpc.send<{ total: number }>(PATTERNS.quote, { nights: 2 }));
      } finally {
        root.end();
      }
    });
    expect(reply).toMatchObject({ total: 200 });
    const send = exporter.getFinishedSpans().find((span) => span.name === `send ${PATTERNS.quote}`);
    expect(send).toBeDefined();
    // The handler span ends (and is exported) after the reply left, so it may be printed after the caller resumed.
    const exported = (name: string) => workerSpans(worker).some((s) => s.name === name);
    expect(await eventually(() => exported('worker.price') && exported(`process ${PATTERNS.quote}`))).toBe(true);
    const spans = workerSpans(worker);
    const handled = spans.find((s) => s.name === `process ${PATTERNS.quote}`);
    expect(handled).toMatchObject({
      kind: SpanKind.SERVER,
      traceId: send!.spanContext().traceId,
      parentSpanId: send!.spanContext().spanId,
    });
    expect(spans.find((s) => s.name === 'worker.price')).toMatchObject({
      traceId: send!.spanContext().traceId,
      parentSpanId: handled!.spanId,
    });
  });

  it('emit into a stream: the worker process records its consumer span as the child of this process’ emit span', async () => {
    const entryId = await tracer.startActiveSpan('request', async (root) => {
      try {
        return await lastValueFrom(events.emit<string>(PATTERNS.booked, { id: 7 }));
      } finally {
        root.end();
      }
    });
    const emit = exporter.getFinishedSpans().find((span) => span.name === `emit ${PATTERNS.booked}`);
    expect(emit?.attributes['messaging.message.id']).toBe(entryId);
    const exported = (name: string) => workerSpans(worker).some((s) => s.name === name);
    expect(await eventually(() => exported('worker.store') && exported(`process ${PATTERNS.booked}`))).toBe(true);
    const processed = workerSpans(worker).find((s) => s.name === `process ${PATTERNS.booked}`);
    expect(processed).toMatchObject({
      kind: SpanKind.CONSUMER,
      traceId: emit!.spanContext().traceId,
      parentSpanId: emit!.spanContext().spanId,
      attributes: {
        'messaging.message.id': entryId,
        'messaging.consumer.group.name': WORKER_GROUP,
        'nest_redis.transport.mode': 'streams',
      },
    });
  });
});
