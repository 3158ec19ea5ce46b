import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort, REDIS_URL, uniqueKeyPrefix, useRedisClient } from '@test/harness';
import { BOOKING_CANCELLED, BOOKING_CREATED } from '../../booking-contracts/src/index.js';
import { AppProcess } from '../../../src/demo/app-process.js';
import { http, pool } from '../../../src/demo/http.js';
import { DEMO_VENUE_ID, seedSlotId } from '../src/database/seed-demo-data.js';
import { OUTBOX_TEST_CRASH_RATE } from '../src/outbox/outbox-crash-point.js';
import { SupervisedProcess } from './support/supervised-process.js';
import { TEST_DATABASE_URL, TestSchema } from './support/test-database.js';

const TODAY = new Date().toISOString().slice(0, 10);
/** Seeded today: 200 and 50 seats; four bookings in five go to the bigger slot, so neither sells out. */
const [BIG_SLOT, SMALL_SLOT] = [seedSlotId(DEMO_VENUE_ID, TODAY, 18), seedSlotId(DEMO_VENUE_ID, TODAY, 12)];
const BOOKINGS = 160;
const CONCURRENCY = 6;
/** Chance that a booked seat is cancelled again right away (a second event for the same booking). */
const CANCEL_SHARE = 0.3;
/** Chance, at each of the two crash points, that an API replica SIGKILLs itself (see outbox-crash-point.ts). */
const CRASH_RATE = 0.012;
/**
 * The test's own SIGKILLs of a random replica: at a random point 4 to 10 s after both replicas serve (a replica
 * takes 10 to 30 s to start from source on a loaded machine), at most this many.
 */
const KILL_AFTER_BOTH_READY_MS: [number, number] = [4_000, 10_000];
const MAX_TEST_KILLS = 2;
/** How long a client keeps retrying a request whose replica died, alternating replicas. */
const RETRY_FOR_MS = 90_000;
const TS_ENTRY = (app: string) => ['--import', './src/runtime/register.mjs', `apps/${app}/src/main.ts`];

const keyPrefix = uniqueKeyPrefix('outbox-crash');
const redis = useRedisClient({ deleteKeysUnder: keyPrefix });
const workerKey = (name: string) => `${keyPrefix}{booking-worker}:${name}`;
const streamKey = (pattern: string) => `${keyPrefix}stream:{${pattern}}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = ([min, max]: [number, number]) => min + Math.random() * (max - min);

/**
 * The transactional outbox under crashes: two booking-api processes (from source, PostgreSQL schema of their own)
 * take a booking burst while they are SIGKILLed at random (by the test, and by themselves right after a commit or
 * right after a publish, `OUTBOX_TEST_CRASH_RATE`) and restarted, as an orchestrator would. A booking-worker process
 * records the events. Afterwards every committed booking (the database is the truth, whatever the clients heard) has
 * had its `booking.created`, and every committed cancellation its `booking.cancelled`, recorded exactly once, and
 * nothing was recorded for a booking that was not committed.
 */
describe('booking-api outbox: SIGKILLed replicas during a booking burst lose no event and record none twice', () => {
  const schema = new TestSchema('outbox_crash');
  const apis: Array<{ process: SupervisedProcess; url: string }> = [];
  let worker: AppProcess;

  beforeAll(async () => {
    const shared = {
      REDIS_URL,
      REDIS_KEY_PREFIX: keyPrefix,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema.name,
    };
    for (const name of ['a', 'b']) {
      const [port, managementPort] = [await freePort(), await freePort()];
      apis.push({
        url: `http://127.0.0.1:${port}`,
        process: new SupervisedProcess(
          `booking-api ${name}`,
          TS_ENTRY('booking-api'),
          `http://127.0.0.1:${managementPort}`,
          {
            ...shared,
            PORT: String(port),
            MANAGEMENT_PORT: String(managementPort),
            DATABASE_POOL_SIZE: '4',
            SEED_DEMO_DATA: 'true',
            BOOKING_LOCK_WAIT_MS: '30000',
            RATE_LIMIT_LIMIT: '100000',
            [OUTBOX_TEST_CRASH_RATE]: String(CRASH_RATE),
          },
        ),
      });
    }
    const [workerPort, workerManagement] = [await freePort(), await freePort()];
    worker = new AppProcess('booking-worker', TS_ENTRY('booking-worker'), workerPort, workerManagement, {
      ...shared,
      DATABASE_POOL_SIZE: '2',
      WORKER_ID: 'outbox-crash-worker',
      WORKER_PORT: String(workerPort),
      WORKER_MANAGEMENT_PORT: String(workerManagement),
    });
    // The first replica migrates and seeds before anyone else opens the schema.
    apis[0]!.process.start();
    expect(await apis[0]!.process.waitHealthy('/health/ready', 90_000)).toBe(true);
    apis[1]!.process.start();
    worker.start();
    expect(await apis[1]!.process.waitHealthy('/health/ready', 90_000)).toBe(true);
    expect((await worker.waitHealthy('/health', 90_000)).status).toBe(200);
  }, 200_000);

  afterAll(async () => {
    await Promise.all([...apis.map((api) => api.process.stop()), worker?.stop()]);
    await schema.drop();
  });

  it(`${BOOKINGS} bookings (${CANCEL_SHARE * 100} % cancelled) over 2 replicas killed at random: each committed event recorded once`, async () => {
    let burstOver = false;
    let kills = 0;
    const killer = (async () => {
      while (!burstOver && kills < MAX_TEST_KILLS) {
        // Only while both serve: the kill lands mid-traffic, and the other replica carries the burst on.
        const ready = await Promise.all(apis.map((api) => api.process.healthy()));
        if (!ready.every(Boolean)) {
          await sleep(500);
          continue;
        }
        await sleep(between(KILL_AFTER_BOTH_READY_MS));
        if (!burstOver && apis[Math.floor(Math.random() * apis.length)]!.process.kill()) kills++;
      }
    })();

    // A client retries a failed request (its replica died) on the other one, with the same Idempotency-Key.
    const outcomes = { booked: 0, refused: 0, unknown: 0, cancelled: 0 };
    const refusals = new Map<string, number>();
    const send = async (method: 'POST' | 'DELETE', path: string, i: number, body?: object) => {
      const key = randomUUID();
      const deadline = Date.now() + RETRY_FOR_MS;
      for (let attempt = 0; Date.now() < deadline; attempt++) {
        const result = await http<{ id: string }>(method, `${apis[(i + attempt) % apis.length]!.url}${path}`, {
          body,
          headers: { 'idempotency-key': key, 'x-client-id': `burst-${i % CONCURRENCY}` },
          timeoutMs: 45_000,
        });
        if (result.status !== 0 && result.status < 500) return result;
        await sleep(500);
      }
      return undefined;
    };
    const started = Date.now();
    await pool(BOOKINGS, CONCURRENCY, async (i) => {
      const result = await send('POST', '/bookings', i, {
        slotId: i % 5 === 4 ? SMALL_SLOT : BIG_SLOT,
        customerEmail: `burst-${i}@example.com`,
        seats: 1,
      });
      if (!result) return void outcomes.unknown++;
      if (result.status !== 201 && result.status !== 200) {
        const reason = `${result.status} ${(result.body as { code?: string }).code ?? ''}`.trim();
        refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
        return void outcomes.refused++;
      }
      outcomes.booked++;
      if (Math.random() < CANCEL_SHARE) {
        const cancel = await send('DELETE', `/bookings/${result.body.id}`, i);
        if (cancel?.status === 200) outcomes.cancelled++;
      }
    });
    const burstSeconds = (Date.now() - started) / 1000;
    burstOver = true;
    await killer;
    for (const api of apis) expect(await api.process.waitHealthy('/health/ready', 90_000)).toBe(true);

    // The database is the truth: what committed, whatever the clients were told.
    const bookings = await schema.query<{ id: string; status: string }>(`SELECT id, status FROM bookings`);
    const committed = new Set(bookings.map((b) => b.id));
    const cancelled = new Set(bookings.filter((b) => b.status === 'cancelled').map((b) => b.id));
    const expectedEvents = committed.size + cancelled.size;

    // The surviving replicas' periodic pass relays what the dead ones left: the outbox drains.
    const unpublished = async () =>
      Number((await schema.query<{ n: string }>(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL`))[0]!.n);
    const drainDeadline = Date.now() + 60_000;
    while ((await unpublished()) > 0 && Date.now() < drainDeadline) await sleep(500);
    const outbox = await schema.query<{ event_name: string; booking_id: string }>(
      `SELECT event_name, payload->>'bookingId' AS booking_id FROM outbox`,
    );

    // booking-worker catches up, then holds one record per committed event and none other.
    const workerUrl = `http://127.0.0.1:${worker.port}`;
    type Stats = { eventsHandled: number; duplicatesIgnored: number; notifications: number };
    let stats: Stats = { eventsHandled: -1, duplicatesIgnored: -1, notifications: -1 };
    const catchUpDeadline = Date.now() + 45_000;
    while (Date.now() < catchUpDeadline) {
      stats = (await http<Stats>('GET', `${workerUrl}/stats`)).body;
      if (stats.eventsHandled >= expectedEvents) break;
      await sleep(500);
    }
    const notified = await redis.hkeys(workerKey('notifications'));
    const cancelRecorded = await redis.hkeys(workerKey('cancellations'));
    const relayed = {
      [BOOKING_CREATED]: await redis.xlen(streamKey(BOOKING_CREATED)),
      [BOOKING_CANCELLED]: await redis.xlen(streamKey(BOOKING_CANCELLED)),
    };
    const deadLettered =
      (await redis.xlen(`${streamKey(BOOKING_CREATED)}:dead`)) +
      (await redis.xlen(`${streamKey(BOOKING_CANCELLED)}:dead`));
    // Stream entries beyond the first of each event the worker recorded: publishes repeated after a crash.
    const relayedTwice =
      relayed[BOOKING_CREATED] + relayed[BOOKING_CANCELLED] - notified.length - cancelRecorded.length;
    const missing =
      [...committed].filter((id) => !notified.includes(id)).length +
      [...cancelled].filter((id) => !cancelRecorded.includes(id)).length;
    const stillUnpublished = await unpublished();
    const output = apis.flatMap((api) => api.process.output);
    const selfKills = {
      afterCommit: output.filter((line) => line.endsWith('SIGKILL after-commit')).length,
      afterPublish: output.filter((line) => line.endsWith('SIGKILL after-publish')).length,
    };

    process.stdout.write(
      `outbox crash run: ${BOOKINGS} booking requests (${CONCURRENCY} at once) in ${burstSeconds.toFixed(1)} s; ` +
        `clients saw ${outcomes.booked} booked, ${outcomes.cancelled} cancelled, ${outcomes.refused} refused ` +
        `(${[...refusals].map(([reason, n]) => `${n} × ${reason}`).join(', ') || 'none'}), ` +
        `${outcomes.unknown} unanswered after retries. Database: ${committed.size} bookings committed, ` +
        `${cancelled.size} cancelled (${expectedEvents} events). Kills: ${kills} by the test, ` +
        `${selfKills.afterCommit} after commit and ${selfKills.afterPublish} after publish by the replicas ` +
        `(${apis.map((api) => api.process.starts - 1).join(' + ')} restarts). Relayed: ` +
        `${relayed[BOOKING_CREATED]} booking.created + ${relayed[BOOKING_CANCELLED]} booking.cancelled stream ` +
        `entries, ${relayedTwice} relayed twice; worker: ${stats.eventsHandled} handled once, ` +
        `${stats.duplicatesIgnored} duplicates ignored, ${deadLettered} dead-lettered; ${missing} committed events ` +
        `never recorded, ${stillUnpublished} outbox entries left unpublished.\n`,
    );

    // The outbox drained: one entry per committed event, each published.
    expect(stillUnpublished).toBe(0);
    expect(outbox).toHaveLength(expectedEvents);
    // Every committed booking's events are recorded, each once, and nothing else is.
    expect(missing).toBe(0);
    expect(new Set(notified)).toEqual(committed);
    expect(new Set(cancelRecorded)).toEqual(cancelled);
    expect(stats.eventsHandled).toBe(expectedEvents);
    expect(stats.notifications).toBe(committed.size);
    expect(deadLettered).toBe(0);
    // Each entry relayed more than once reached the worker again and was recognised as a duplicate.
    expect(relayedTwice).toBeGreaterThanOrEqual(0);
    expect(stats.duplicatesIgnored).toBeGreaterThanOrEqual(relayedTwice);
    // The outbox rows name the same bookings.
    expect(new Set(outbox.filter((e) => e.event_name === BOOKING_CREATED).map((e) => e.booking_id))).toEqual(committed);
    // Replicas did die mid-burst (how many of them between a commit and its publish is printed above).
    expect(kills + selfKills.afterCommit + selfKills.afterPublish).toBeGreaterThan(0);
    expect(committed.size).toBeGreaterThan(0);
  }, 240_000);
});
