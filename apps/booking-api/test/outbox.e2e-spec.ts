import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import {
  BOOKING_CREATED,
  type BookingCreatedEvent,
  type BookingEventMap,
  type BookingEventName,
} from '../../booking-contracts/src/index.js';
import { BookingEventsPublisher } from '../src/bookings/booking-events.publisher.js';
import { Database } from '../src/database/database.js';
import { migrate } from '../src/database/migrations.js';
import { PgDatabase } from '../src/database/pg-database.js';
import { DEMO_VENUE_ID, seedSlotId } from '../src/database/seed-demo-data.js';
import { OutboxRepository } from '../src/outbox/outbox.repository.js';
import { REDIS_URL, uniqueKeyPrefix } from '@test/harness';
import { untilPasses } from '../../booking-worker/test/support/until-passes.js';
import { bootApi, closeApi } from './support/boot-api.js';
import { RecordingEventsPublisher } from './support/recording-events.publisher.js';
import { TEST_DATABASE_URL, TestSchema } from './support/test-database.js';

const TODAY = new Date().toISOString().slice(0, 10);
/** Seeded: 50 seats. */
const FIFTY_SEATS = seedSlotId(DEMO_VENUE_ID, TODAY, 12);
/** The periodic pass takes entries older than 3 s, every second: 15 s is generous on a loaded machine. */
const PASS_WAIT_MS = 15_000;

/** Records events, after refusing the next `failures` publishes as Redis would when down. */
class RefusingEventsPublisher extends RecordingEventsPublisher {
  failures = 0;

  override async publish<Name extends BookingEventName>(name: Name, payload: BookingEventMap[Name]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('Redis refused the entry (test)');
    }
    return super.publish(name, payload);
  }
}

describe('booking-api outbox relay', () => {
  describe('in the app (PostgreSQL)', () => {
    const keyPrefix = uniqueKeyPrefix('api-outbox');
    const schema = new TestSchema('api_outbox');
    const events = new RefusingEventsPublisher();
    let app: NestExpressApplication;

    const outboxRowsOf = (bookingId: string) =>
      schema.query<{ event_name: string; published: boolean; attempts: number }>(
        `SELECT event_name, published_at IS NOT NULL AS published, attempts FROM outbox
          WHERE payload->>'bookingId' = $1 ORDER BY id`,
        [bookingId],
      );

    beforeAll(async () => {
      app = await bootApi({
        redis: { url: REDIS_URL, keyPrefix },
        schema,
        seedDemoData: true,
        overrides: [{ provide: BookingEventsPublisher, useValue: events }],
      });
    });

    afterAll(async () => {
      await closeApi(app, keyPrefix);
      await schema.drop();
    });

    beforeEach(() => {
      events.events.length = 0;
      events.failures = 0;
    });

    it('publishes a booking event right after the commit and marks its entry', async () => {
      const response = await request(app.getHttpServer())
        .post('/bookings')
        .set('Idempotency-Key', randomUUID())
        .send({ slotId: FIFTY_SEATS, customerEmail: 'now@example.com', seats: 1 })
        .expect(201);
      expect(events.events.map((event) => event.name)).toEqual([BOOKING_CREATED]);
      expect(await outboxRowsOf(response.body.id)).toEqual([
        { event_name: BOOKING_CREATED, published: true, attempts: 1 },
      ]);
    });

    it('a booking whose publish Redis refused stands (201); the next pass publishes its event, once', async () => {
      events.failures = 1;
      const response = await request(app.getHttpServer())
        .post('/bookings')
        .set('Idempotency-Key', randomUUID())
        .send({ slotId: FIFTY_SEATS, customerEmail: 'refused@example.com', seats: 1 })
        .expect(201);
      expect(events.events).toEqual([]);
      await untilPasses(async () => {
        expect(events.events.map((event) => (event.payload as BookingCreatedEvent).bookingId)).toEqual([
          response.body.id,
        ]);
      }, PASS_WAIT_MS);
      expect(await outboxRowsOf(response.body.id)).toEqual([
        { event_name: BOOKING_CREATED, published: true, attempts: 2 },
      ]);
    });

    it('an entry committed but never published (its process died after the commit) is published by the pass', async () => {
      const bookingId = randomUUID();
      const payload: BookingCreatedEvent = {
        bookingId,
        venueId: DEMO_VENUE_ID,
        slotId: FIFTY_SEATS,
        customerEmail: 'orphan@example.com',
        seats: 1,
        fencingToken: 1,
        createdAt: new Date().toISOString(),
      };
      const outbox = app.get(OutboxRepository);
      await app.get(Database).transaction((tx) => outbox.append(tx, BOOKING_CREATED, payload));
      await untilPasses(async () => {
        expect(events.events).toEqual([{ name: BOOKING_CREATED, payload }]);
      }, PASS_WAIT_MS);
      expect(await outboxRowsOf(bookingId)).toEqual([{ event_name: BOOKING_CREATED, published: true, attempts: 1 }]);
    });
  });

  describe('claims from two replicas at once (PostgreSQL)', () => {
    const ENTRIES = 300;
    const schema = new TestSchema('outbox_claims');
    const databases: PgDatabase[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 2; i++) {
        databases.push(
          new PgDatabase({ url: TEST_DATABASE_URL, schema: schema.name, poolSize: 4, singleSession: false }),
        );
      }
      await migrate(databases[0]!, schema.name);
      // Connected before the race, so neither relay starts late by its connection set-up.
      await Promise.all(databases.map((db) => db.query(`SELECT 1`)));
    });

    afterAll(async () => {
      await Promise.all(databases.map((db) => db.close()));
      await schema.drop();
    });

    it(`${ENTRIES} entries claimed 10 at a time by 2 relays (own pools), 3 claims in flight each: disjoint, each batch in id order`, async () => {
      const writer = new OutboxRepository(databases[0]!);
      await databases[0]!.transaction(async (tx) => {
        for (let i = 0; i < ENTRIES; i++) {
          await writer.append(tx, BOOKING_CREATED, { bookingId: `b${i}` } as unknown as BookingCreatedEvent);
        }
      });
      const claimed = new Map<string, string[]>();
      await Promise.all(
        databases.flatMap((db, relay) =>
          Array.from({ length: 3 }, async () => {
            const outbox = new OutboxRepository(db);
            for (;;) {
              const batch = await outbox.claimStale(`relay-${relay}`, 60_000, 10, 0);
              if (batch.length === 0) return;
              const ids = batch.map((entry) => BigInt(entry.id));
              expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
              for (const entry of batch) claimed.set(entry.id, [...(claimed.get(entry.id) ?? []), `relay-${relay}`]);
            }
          }),
        ),
      );
      expect(claimed.size).toBe(ENTRIES);
      expect([...claimed.values()].filter((owners) => owners.length > 1)).toEqual([]);
      // A lease not yet run out keeps the entries from a third claimer.
      expect(await new OutboxRepository(databases[1]!).claimStale('relay-2', 60_000, ENTRIES, 0)).toEqual([]);
    });
  });
});
