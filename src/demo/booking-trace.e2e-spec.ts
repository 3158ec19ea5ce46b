import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEMO_VENUE_ID } from '../../apps/booking-api/src/database/seed-demo-data.js';
import { TEST_DATABASE_URL } from '../../apps/booking-api/test/support/test-database.js';
import { eventually, freePort, uniqueKeyPrefix, REDIS_URL, useRedisClient } from '@test/harness';
import { AppProcess } from './app-process.js';
import { http } from './http.js';
import { sql } from './sql-client.js';
import { findBookingTrace, formatTraceTree, readSpanFiles, type BookingTrace, type TracedSpan } from './trace-tree.js';

const TS_LOADER = ['--import', './src/runtime/register.mjs'];
const keyPrefix = uniqueKeyPrefix('booking-trace');
useRedisClient({ deleteKeysUnder: keyPrefix });

/**
 * The demo's tracing (`TRACES_FILE`) on real processes: one booking-api and one booking-worker (from source), each
 * appending its spans to a file of its own; one booking's trace read back from both files.
 */
describe('booking trace: booking-api and booking-worker processes with TRACES_FILE', () => {
  const schema = `t_trace_${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'booking-trace-'));
  const files = { 'booking-api': join(dir, 'api.jsonl'), 'booking-worker': join(dir, 'worker.jsonl') };
  const apps: AppProcess[] = [];
  const email = `trace-${randomBytes(4).toString('hex')}@example.com`;
  const incoming = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
  let trace: BookingTrace | undefined;
  let spans: TracedSpan[] = [];

  beforeAll(async () => {
    const shared = {
      REDIS_URL,
      REDIS_KEY_PREFIX: keyPrefix,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema,
      DATABASE_POOL_SIZE: '2',
      SEED_DEMO_DATA: 'true',
    };
    const [a, ma, w, mw] = [await freePort(), await freePort(), await freePort(), await freePort()];
    apps.push(
      new AppProcess('booking-api', [...TS_LOADER, 'apps/booking-api/src/main.ts'], a, ma, {
        ...shared,
        PORT: String(a),
        MANAGEMENT_PORT: String(ma),
        TRACES_FILE: files['booking-api'],
      }),
      new AppProcess('booking-worker', [...TS_LOADER, 'apps/booking-worker/src/main.ts'], w, mw, {
        ...shared,
        WORKER_ID: 'trace-worker',
        WORKER_PORT: String(w),
        WORKER_MANAGEMENT_PORT: String(mw),
        TRACES_FILE: files['booking-worker'],
      }),
    );
    apps.forEach((app) => app.start());
    for (const app of apps) expect((await app.waitHealthy('/health', 60_000)).status).toBe(200);

    const date = new Date().toISOString().slice(0, 10);
    const venue = await http<{ slots: { slotId: string; capacity: number; bookedSeats: number }[] }>(
      'GET',
      `${apps[0]!.baseUrl}/venues/${DEMO_VENUE_ID}/availability?date=${date}`,
    );
    const slot = venue.body.slots.find((s) => s.capacity - s.bookedSeats >= 2)!;
    const book = (headers: Record<string, string>) =>
      http('POST', `${apps[0]!.baseUrl}/bookings`, {
        body: { slotId: slot.slotId, customerEmail: email, seats: 1 },
        headers: { 'idempotency-key': randomUUID(), ...headers },
      });
    expect((await book({})).status).toBe(201);
    // A caller that is traced itself: the request's span continues its trace.
    expect((await book({ traceparent: `00-${incoming.traceId}-${incoming.spanId}-01` })).status).toBe(201);
    // The handler span ends (and is written) after the ack, so wait for it in the worker's file; the traced
    // caller's request span is exported on its own schedule too, so wait for that one as well.
    await eventually(() => {
      spans = readSpanFiles(files);
      trace = findBookingTrace(spans);
      return trace !== undefined && spans.some((s) => s.name === 'POST /bookings' && s.traceId === incoming.traceId);
    }, 20_000);
    expect(trace).toBeDefined();
    if (process.env.PRINT_TRACE) process.stdout.write(`${formatTraceTree(trace!).join('\n')}\n`);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await sql(TEST_DATABASE_URL, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("roots the booking's trace at the API's HTTP span and links the worker's handler to the emit span", () => {
    const { root, handler, emit } = trace!;
    expect(root).toMatchObject({ process: 'booking-api', name: 'POST /bookings' });
    expect(root.parentSpanId).toBeUndefined();
    expect(handler).toMatchObject({ process: 'booking-worker', traceId: root.traceId });
    expect(emit).toMatchObject({ process: 'booking-api', name: 'emit booking.created', traceId: root.traceId });
    expect(handler.parentSpanId).toBe(emit!.spanId);
    expect(trace!.processes.sort()).toEqual(['booking-api', 'booking-worker']);
  });

  it('holds the lock, database and worker spans in the same trace', () => {
    const names = trace!.spans.map((span) => span.name);
    expect(names).toEqual(expect.arrayContaining(['lock.acquire', 'lock.hold', 'transaction', 'EVAL record-once']));
    const db = trace!.spans.filter((span) => span.attributes['db.system.name'] === 'postgresql');
    expect(db.length).toBeGreaterThan(0);
    for (const span of db) expect(span.attributes['db.operation.name']).toEqual(expect.any(String));
    const record = trace!.spans.find((span) => span.name === 'EVAL record-once')!;
    expect(record.parentSpanId).toBe(trace!.handler.spanId);
  });

  it('continues an incoming W3C traceparent', () => {
    const continued = spans.find((span) => span.name === 'POST /bookings' && span.traceId === incoming.traceId);
    expect(continued?.parentSpanId).toBe(incoming.spanId);
  });

  it('writes no parameter value: the customer e-mail is in no span', () => {
    for (const file of Object.values(files)) expect(readFileSync(file, 'utf8')).not.toContain(email);
  });
});
