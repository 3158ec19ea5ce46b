import type { Database } from './database.js';

/** One schema change; `statements` run in order, in the migration transaction. Never edit an applied one. */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

/** The schema of booking-api, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'venues, slots and bookings',
    statements: [
      `CREATE TABLE venues (
         id uuid PRIMARY KEY,
         name text NOT NULL,
         city text NOT NULL
       )`,
      `CREATE TABLE slots (
         id uuid PRIMARY KEY,
         venue_id uuid NOT NULL REFERENCES venues (id),
         starts_at timestamptz NOT NULL,
         ends_at timestamptz NOT NULL,
         capacity integer NOT NULL CHECK (capacity > 0),
         booked_seats integer NOT NULL DEFAULT 0 CHECK (booked_seats >= 0 AND booked_seats <= capacity),
         last_fencing_token bigint NOT NULL DEFAULT 0,
         CHECK (ends_at > starts_at)
       )`,
      `CREATE INDEX slots_venue_starts_at ON slots (venue_id, starts_at)`,
      `CREATE TABLE bookings (
         id uuid PRIMARY KEY,
         slot_id uuid NOT NULL REFERENCES slots (id),
         venue_id uuid NOT NULL REFERENCES venues (id),
         customer_email text NOT NULL,
         seats integer NOT NULL CHECK (seats > 0),
         status text NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
         idempotency_key text NOT NULL UNIQUE,
         request_fingerprint text NOT NULL,
         fencing_token bigint NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         cancelled_at timestamptz,
         cancel_fencing_token bigint
       )`,
      `CREATE INDEX bookings_slot ON bookings (slot_id)`,
    ],
  },
  {
    version: 2,
    name: 'seat holds, their releases and the payment log',
    statements: [
      // Seats taken by live holds count against the capacity next to the booked ones.
      `ALTER TABLE slots ADD COLUMN held_seats integer NOT NULL DEFAULT 0 CHECK (held_seats >= 0)`,
      `ALTER TABLE slots ADD CONSTRAINT slots_seats_within_capacity CHECK (booked_seats + held_seats <= capacity)`,
      `CREATE TABLE holds (
         id uuid PRIMARY KEY,
         slot_id uuid NOT NULL REFERENCES slots (id),
         venue_id uuid NOT NULL REFERENCES venues (id),
         customer_email text NOT NULL,
         seats integer NOT NULL CHECK (seats > 0),
         status text NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled', 'released')),
         expires_at timestamptz NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         ended_at timestamptz,
         booking_id uuid UNIQUE REFERENCES bookings (id)
       )`,
      `CREATE INDEX holds_live_by_expiry ON holds (expires_at) WHERE status = 'held'`,
      `ALTER TABLE bookings ADD COLUMN hold_id uuid UNIQUE REFERENCES holds (id)`,
      // One row per release, deliberately without a unique key on hold_id: a hold released twice would show.
      `CREATE TABLE hold_releases (
         hold_id uuid NOT NULL REFERENCES holds (id),
         worker_id text NOT NULL,
         tick bigint NOT NULL,
         released_at timestamptz NOT NULL DEFAULT now()
       )`,
      `CREATE INDEX hold_releases_hold ON hold_releases (hold_id)`,
      // The simulated payment step: when each call held its semaphore permit (Date.now() of the API process).
      `CREATE TABLE payments (
         hold_id uuid NOT NULL,
         instance text NOT NULL,
         started_at_ms bigint NOT NULL,
         finished_at_ms bigint NOT NULL
       )`,
    ],
  },
  {
    version: 3,
    name: 'transactional outbox of booking events',
    statements: [
      // One row per booking event, inserted in the transaction that wrote the booking; the relay (src/outbox)
      // publishes it after commit. `id` gives the publishing order; `claimed_by`/`claimed_until` are the lease a
      // relay holds on a row while it publishes it, so two replicas do not publish one row at the same time.
      `CREATE TABLE outbox (
         id bigserial PRIMARY KEY,
         event_name text NOT NULL,
         payload jsonb NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         published_at timestamptz,
         attempts integer NOT NULL DEFAULT 0,
         claimed_by text,
         claimed_until timestamptz
       )`,
      `CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL`,
    ],
  },
];

/**
 * Applies the migrations not applied yet, in one transaction, and returns their versions. Safe to run from every
 * replica at once: a transaction-scoped advisory lock (per schema) lets one apply them while the others wait, then
 * find nothing left to do.
 *
 * @param db the database to migrate
 * @param schema the schema to create first when the configuration names one
 */
export async function migrate(db: Database, schema?: string): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`booking-api:migrations:${schema ?? ''}`]);
    // `schema` was checked to be a plain identifier when the configuration was loaded.
    if (schema) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const rows = await tx.query<{ version: number }>(`SELECT version FROM schema_migrations`);
    const applied = new Set(rows.map((row) => Number(row.version)));
    const pending = MIGRATIONS.filter((migration) => !applied.has(migration.version));
    for (const migration of pending) {
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    return pending.map((migration) => migration.version);
  });
}
