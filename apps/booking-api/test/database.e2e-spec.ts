import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { Database } from '../src/database/database.js';
import { MIGRATIONS, migrate } from '../src/database/migrations.js';
import { PgDatabase } from '../src/database/pg-database.js';
import { DEMO_VENUE_ID, seedDemoData, seedSlotId } from '../src/database/seed-demo-data.js';
import { serveEmbeddedDatabase, type EmbeddedDatabase } from '../../../src/demo/embedded-database.js';
import { uniqueKeyPrefix, REDIS_URL } from '@test/harness';
import { bootApi, closeApi, managementOf } from './support/boot-api.js';
import { TEST_DATABASE_URL, TestSchema } from './support/test-database.js';

const TODAY = new Date().toISOString().slice(0, 10);
const TEN_SEATS = seedSlotId(DEMO_VENUE_ID, TODAY, 9);

const book = (app: NestExpressApplication, slotId: string) =>
  request(app.getHttpServer())
    .post('/bookings')
    .set('Idempotency-Key', randomUUID())
    .send({ slotId, customerEmail: 'ada@example.com', seats: 1 });

describe('booking-api store', () => {
  describe('migrations on PostgreSQL', () => {
    const schema = new TestSchema('migrations');
    const databases: PgDatabase[] = [];
    const open = () => {
      const db = new PgDatabase({ url: TEST_DATABASE_URL, schema: schema.name, poolSize: 2, singleSession: false });
      databases.push(db);
      return db;
    };

    afterAll(async () => {
      await Promise.all(databases.map((db) => db.close()));
      await schema.drop();
    });

    it('apply once when three replicas start at the same time, then find nothing to do', async () => {
      const applied = await Promise.all([
        migrate(open(), schema.name),
        migrate(open(), schema.name),
        migrate(open(), schema.name),
      ]);
      expect(applied.sort((a, b) => b.length - a.length)).toEqual([MIGRATIONS.map((m) => m.version), [], []]);
      expect(await migrate(open(), schema.name)).toEqual([]);
      const rows = await schema.query<{ version: number }>(`SELECT version FROM schema_migrations`);
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    });

    it('seed idempotently: seeding twice inserts nothing new and keeps bookings', async () => {
      const db = open();
      await seedDemoData(db, [TODAY]);
      await db.query(`UPDATE slots SET booked_seats = 3 WHERE id = $1`, [TEN_SEATS]);
      await seedDemoData(db, [TODAY]);
      const [slots] = await db.query<{ count: string }>(`SELECT count(*) FROM slots`);
      expect(Number(slots!.count)).toBe(5);
      const [slot] = await db.query<{ booked_seats: number }>(`SELECT booked_seats FROM slots WHERE id = $1`, [
        TEN_SEATS,
      ]);
      expect(slot!.booked_seats).toBe(3);
    });

    it('rolls a failed transaction back', async () => {
      const db = open();
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`UPDATE slots SET booked_seats = 4 WHERE id = $1`, [TEN_SEATS]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const [slot] = await db.query<{ booked_seats: number }>(`SELECT booked_seats FROM slots WHERE id = $1`, [
        TEN_SEATS,
      ]);
      expect(slot!.booked_seats).toBe(3);
    });
  });

  describe('without DATABASE_URL: the embedded PGlite, in the process', () => {
    const keyPrefix = uniqueKeyPrefix('api-pglite');
    let app: NestExpressApplication;

    beforeAll(async () => {
      app = await bootApi({ redis: { url: REDIS_URL, keyPrefix }, seedDemoData: true });
    }, 60_000);

    afterAll(async () => {
      await closeApi(app, keyPrefix);
    });

    it('books and reports availability with the same SQL, and reports the engine in /health', async () => {
      await book(app, TEN_SEATS).expect(201);
      const availability = await request(app.getHttpServer())
        .get(`/venues/${DEMO_VENUE_ID}/availability`)
        .query({ date: TODAY })
        .expect(200);
      expect(availability.body.slots[0]).toMatchObject({ slotId: TEN_SEATS, bookedSeats: 1, availableSeats: 9 });
      const health = await request(managementOf(app)).get('/health/ready').expect(200);
      expect(health.body.details.database).toEqual({ status: 'up', engine: 'pglite', latencyMs: expect.any(Number) });
      expect(await migrate(app.get(Database))).toEqual([]);
    });
  });

  describe('the embedded PGlite served over the wire to two replicas (DATABASE_SINGLE_SESSION)', () => {
    const keyPrefix = uniqueKeyPrefix('api-pglite-socket');
    let embedded: EmbeddedDatabase;
    const replicas: NestExpressApplication[] = [];

    beforeAll(async () => {
      embedded = await serveEmbeddedDatabase();
      for (let i = 0; i < 2; i++) {
        replicas.push(
          await bootApi({
            redis: { url: REDIS_URL, keyPrefix },
            database: { url: embedded.url, singleSession: true, poolSize: 4 },
            seedDemoData: true,
          }),
        );
      }
      // Two apps migrating and seeding through one single-session server: over 60 s once on a loaded CI machine.
    }, 180_000);

    afterAll(async () => {
      for (const app of replicas) await closeApi(app, keyPrefix);
      await embedded?.stop();
    });

    it('confirms exactly 10 of 30 concurrent attempts across both replicas', async () => {
      const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => book(replicas[i % 2]!, TEN_SEATS)));
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(10);
      expect(statuses.filter((s) => s === 409)).toHaveLength(20);
      const [slot] = await replicas[0]!
        .get(Database)
        .query<{ booked_seats: number }>(`SELECT booked_seats FROM slots WHERE id = $1`, [TEN_SEATS]);
      expect(slot!.booked_seats).toBe(10);
    });
  });
  describe('PostgreSQL giving no connection in time', () => {
    const schema = new TestSchema('unavailable');
    const keyPrefix = uniqueKeyPrefix('api-db-unavailable');
    let app: NestExpressApplication | undefined;

    afterAll(async () => {
      await closeApi(app, keyPrefix);
      await schema.drop();
    });

    it('answers 503 with Retry-After, not 500, while the pool is exhausted, and books again once it is free', async () => {
      app = await bootApi({
        redis: { url: REDIS_URL, keyPrefix },
        schema,
        database: { poolSize: 1 },
        seedDemoData: true,
      });
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      // The pool's only connection, kept in an open transaction: the booking waits the pool's 5 s and gives up.
      const holding = app.get(Database).transaction(() => held);
      try {
        const response = await book(app, TEN_SEATS);
        expect(response.status).toBe(503);
        expect(response.headers['retry-after']).toBe('1');
        expect(response.body).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
        expect(JSON.stringify(response.body)).not.toMatch(/timeout exceeded|pool/i);
      } finally {
        release();
        await holding;
      }
      expect((await book(app, TEN_SEATS)).status).toBe(201);
    }, 30_000);
  });
});
