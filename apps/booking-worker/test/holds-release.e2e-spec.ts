import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort, REDIS_URL, uniqueKeyPrefix, useRedisClient } from '@test/harness';
import { migrate } from '../../booking-api/src/database/migrations.js';
import { PgDatabase } from '../../booking-api/src/database/pg-database.js';
import {
  DEMO_VENUE_ID,
  SECOND_VENUE_ID,
  seedDemoData,
  seedSlotId,
} from '../../booking-api/src/database/seed-demo-data.js';
import { TEST_DATABASE_URL, TestSchema } from '../../booking-api/test/support/test-database.js';
import { AppProcess } from '../../../src/demo/app-process.js';
import { EXPIRING_HOLDS_KEY } from '../../booking-contracts/src/index.js';
import { accountTicks, type HoldsReleaseRun } from '../src/holds-release/holds-release.runs.js';
import { untilPasses } from './support/until-passes.js';

const TODAY = new Date().toISOString().slice(0, 10);
/** Seeded: 50 seats. */
const FIFTY_SEATS = seedSlotId(DEMO_VENUE_ID, TODAY, 12);
/** Seeded: 4 seats; its counter is knocked off to see the job reconcile it. */
const DRIFTED_SLOT = seedSlotId(SECOND_VENUE_ID, TODAY, 10);
const EXPIRING_HOLDS = 24;

const keyPrefix = uniqueKeyPrefix('worker-holds-release');
const redis = useRedisClient({ deleteKeysUnder: keyPrefix });

/**
 * Two booking-worker processes (run from source) on one Redis prefix and one PostgreSQL schema: the hold-release
 * job (`@OncePerCluster` + `@Cron` every second) must run each tick on one of them and release each expired hold
 * exactly once.
 */
describe('booking-worker hold release: 2 worker processes, holds expiring over 4 s (2 in 3 announced in Redis)', () => {
  const schema = new TestSchema('worker_holds');
  const workers: AppProcess[] = [];
  let db: PgDatabase;
  let runs: HoldsReleaseRun[];
  let liveHoldId: string;

  /**
   * A hold as booking-api places it; `announce` adds it to the `holds:expiring` sorted set as the API does (without,
   * as when that write failed, only the job's full pass every tenth tick finds it).
   */
  const insertHold = async (expiresInMs: number, announce: boolean): Promise<string> => {
    const id = randomUUID();
    const expiresAt = await db.transaction(async (tx) => {
      const [row] = await tx.query<{ expires_at: Date }>(
        `INSERT INTO holds (id, slot_id, venue_id, customer_email, seats, status, expires_at)
         VALUES ($1, $2, $3, 'hold@example.com', 1, 'held', now() + $4 * interval '1 millisecond')
         RETURNING expires_at`,
        [id, FIFTY_SEATS, DEMO_VENUE_ID, expiresInMs],
      );
      await tx.query(`UPDATE slots SET held_seats = held_seats + 1 WHERE id = $1`, [FIFTY_SEATS]);
      return new Date(row!.expires_at).getTime();
    });
    if (announce) await redis.zadd(`${keyPrefix}${EXPIRING_HOLDS_KEY}`, expiresAt, id);
    return id;
  };

  beforeAll(async () => {
    db = new PgDatabase({ url: TEST_DATABASE_URL, schema: schema.name, poolSize: 2, singleSession: false });
    await migrate(db, schema.name);
    await seedDemoData(db);
    for (const name of ['a', 'b']) {
      const [port, managementPort] = [await freePort(), await freePort()];
      workers.push(
        new AppProcess(
          `worker-${name}`,
          ['--import', './src/runtime/register.mjs', 'apps/booking-worker/src/main.ts'],
          port,
          managementPort,
          {
            REDIS_URL,
            REDIS_KEY_PREFIX: keyPrefix,
            DATABASE_URL: TEST_DATABASE_URL,
            DATABASE_SCHEMA: schema.name,
            WORKER_ID: `worker-${name}`,
            WORKER_PORT: String(port),
            WORKER_MANAGEMENT_PORT: String(managementPort),
          },
        ),
      );
    }
    workers.forEach((worker) => worker.start());
    for (const worker of workers) expect((await worker.waitHealthy('/health', 60_000)).status).toBe(200);

    // Holds expiring over the next 4 s (so several ticks release some), and one that outlives the test.
    liveHoldId = await insertHold(600_000, true);
    await Promise.all(Array.from({ length: EXPIRING_HOLDS }, (_, i) => insertHold(((i % 8) + 1) * 500, i % 3 !== 0)));
    // A counter knocked off its rows (as a crash between two writes could leave it): the job must repair it.
    await db.query(`UPDATE slots SET booked_seats = booked_seats + 2 WHERE id = $1`, [DRIFTED_SLOT]);

    await untilPasses(
      async () => {
        const [state] = await db.query<{ held: number; released: string; drifted: number }>(
          `SELECT (SELECT held_seats FROM slots WHERE id = $1) AS held,
                  (SELECT count(*) FROM holds WHERE status = 'released') AS released,
                  (SELECT booked_seats FROM slots WHERE id = $2) AS drifted`,
          [FIFTY_SEATS, DRIFTED_SLOT],
        );
        expect({ ...state, released: Number(state!.released) }).toEqual({
          held: 1,
          released: EXPIRING_HOLDS,
          drifted: 0,
        });
      },
      30_000,
      200,
    );
    // Two more ticks, so both workers had time to see (and skip) every tick.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const entries = await redis.lrange(`${keyPrefix}{booking-worker}:holds-release:runs`, 0, -1);
    runs = entries.map((entry) => JSON.parse(entry) as HoldsReleaseRun);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await db?.close();
    await schema.drop();
  });

  it('releases every expired hold exactly once (one hold_releases row each) and gives its seat back', async () => {
    // Only the live hold is left in the sorted set: the released ones were dropped after the passes that ended them.
    expect(await redis.zrange(`${keyPrefix}${EXPIRING_HOLDS_KEY}`, 0, -1)).toEqual([liveHoldId]);
    const releases = await db.query<{ hold_id: string; times: string }>(
      `SELECT hold_id, count(*) AS times FROM hold_releases GROUP BY hold_id`,
    );
    expect(releases).toHaveLength(EXPIRING_HOLDS);
    expect(releases.every((release) => Number(release.times) === 1)).toBe(true);
    const [live] = await db.query<{ status: string }>(`SELECT status FROM holds WHERE id = $1`, [liveHoldId]);
    expect(live!.status).toBe('held');
    const [slot] = await db.query<{ held_seats: number }>(`SELECT held_seats FROM slots WHERE id = $1`, [FIFTY_SEATS]);
    expect(slot!.held_seats).toBe(1);
  });

  it('records at most one run per tick (none twice), each by one worker; fencing tokens increase; gaps accounted for', () => {
    const ok = runs.filter((run) => run.error === undefined);
    expect(ok.length).toBeGreaterThan(3);
    const account = accountTicks(runs);
    expect(account.twice).toEqual([]);
    const byTick = [...runs].sort((a, b) => a.tick - b.tick);
    for (let i = 1; i < byTick.length; i++) {
      expect(byTick[i]!.fencingToken).toBeGreaterThan(byTick[i - 1]!.fencingToken);
    }
    expect(runs.every((run) => run.workerId === 'worker-a' || run.workerId === 'worker-b')).toBe(true);
    // With both workers alive every tick ran, except ticks @OncePerCluster skips by design: one due while the
    // previous run still held the job's lock, or one no replica fired in time on a starved machine (the library's
    // own once-per-cluster test proves none is lost on an unloaded job). A quarter of the ticks lost is a failure.
    expect(runs.length + account.skippedBusy.length + account.skippedOther.length).toBe(account.span);
    expect(account.skippedOther.length).toBeLessThanOrEqual(account.span / 4);
    expect(ok.reduce((sum, run) => sum + run.released, 0)).toBe(EXPIRING_HOLDS);
    expect(ok.reduce((sum, run) => sum + run.corrected, 0)).toBe(1);
  });

  it('the releases name the worker and the tick of the run that made them', async () => {
    const rows = await db.query<{ worker_id: string; tick: string; released: string }>(
      `SELECT worker_id, tick, count(*) AS released FROM hold_releases GROUP BY worker_id, tick`,
    );
    const releasedByRun = new Map(runs.map((run) => [`${run.workerId}@${run.tick}`, run.released]));
    for (const row of rows) {
      expect(releasedByRun.get(`${row.worker_id}@${Number(row.tick)}`)).toBe(Number(row.released));
    }
  });
});
