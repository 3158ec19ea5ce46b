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
