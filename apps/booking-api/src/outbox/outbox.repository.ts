import { Injectable } from '@nestjs/common';
import type { BookingEventMap, BookingEventName } from '../../../booking-contracts/src/index.js';
import { Database, type Queryable } from '../database/database.js';

/** One booking event waiting in the outbox. */
export interface OutboxEntry<Name extends BookingEventName = BookingEventName> {
  /** The row's id (a `bigserial`, as a string): the publishing order. */
  id: string;
  name: Name;
  payload: BookingEventMap[Name];
}

interface OutboxRow {
  id: string | number;
  event_name: BookingEventName;
  payload: BookingEventMap[BookingEventName] | string;
}

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    id: String(row.id),
    name: row.event_name,
    // `pg` and PGlite both parse jsonb; a string is only seen through drivers configured otherwise.
    payload: typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload,
  };
}

function byId(a: OutboxEntry, b: OutboxEntry): number {
  return BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0;
}

/**
 * The `outbox` table: booking events written in the booking's own transaction ({@link append}), then claimed,
 * published and marked by the relay ({@link OutboxRelay}).
 *
 * A claim is a lease (`claimed_by`, `claimed_until`), taken in one short statement whose row choice uses
 * `FOR UPDATE SKIP LOCKED`: two relays claiming at once take disjoint rows, and neither holds a transaction open
 * while it talks to Redis (on PGlite, and on the demo's single-session server, an open transaction would stall every
 * other query for as long as a publish waits on Redis).
 */
@Injectable()
export class OutboxRepository {
  constructor(private readonly db: Database) {}

  /**
   * Adds an event to the outbox, inside the caller's transaction: it commits or rolls back with the booking write.
   *
   * @returns the entry's id
   */
  async append<Name extends BookingEventName>(
    tx: Queryable,
    name: Name,
    payload: BookingEventMap[Name],
  ): Promise<string> {
    const [row] = await tx.query<{ id: string | number }>(
      `INSERT INTO outbox (event_name, payload) VALUES ($1, $2::jsonb) RETURNING id`,
      [name, JSON.stringify(payload)],
    );
    return String(row!.id);
  }

  /**
   * Claims the given entries if they are still unpublished and unclaimed (or their lease ran out): the path of the
   * request that just committed them.
   *
   * @returns the entries claimed, in id order (none when another relay holds or already published them)
   */
  async claimIds(ids: readonly string[], owner: string, leaseMs: number): Promise<OutboxEntry[]> {
    if (ids.length === 0) return [];
    return this.claim(`id = ANY($4::bigint[])`, owner, leaseMs, ids.length, [ids]);
  }

  /**
   * Claims up to `limit` of the oldest unpublished, unclaimed entries written at least `minAgeMs` ago: rows their
   * request did not publish (its process died, or Redis refused), left for the periodic pass.
   *
   * @returns the entries claimed, in id order
   */
  async claimStale(owner: string, leaseMs: number, limit: number, minAgeMs: number): Promise<OutboxEntry[]> {
    return this.claim(`created_at <= now() - $4::integer * interval '1 millisecond'`, owner, leaseMs, limit, [
      minAgeMs,
    ]);
  }

  /** Marks entries published (whoever claimed them: a late second publish is what the worker dedupes anyway). */
  async markPublished(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `UPDATE outbox SET published_at = now(), claimed_by = NULL, claimed_until = NULL
        WHERE id = ANY($1::bigint[]) AND published_at IS NULL`,
      [ids],
    );
  }

  /** Gives up `owner`'s lease on entries it could not publish, so the next pass retries them at once. */
  async release(ids: readonly string[], owner: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `UPDATE outbox SET claimed_by = NULL, claimed_until = NULL
        WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND published_at IS NULL`,
      [ids, owner],
    );
  }

  private async claim(
    filter: string,
    owner: string,
    leaseMs: number,
    limit: number,
    filterParams: unknown[],
  ): Promise<OutboxEntry[]> {
    const rows = await this.db.query<OutboxRow>(
      `UPDATE outbox
          SET claimed_by = $1, claimed_until = now() + $2::integer * interval '1 millisecond', attempts = attempts + 1
        WHERE id IN (
          SELECT id FROM outbox
           WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now()) AND ${filter}
           ORDER BY id
           LIMIT $3
           FOR UPDATE SKIP LOCKED)
        RETURNING id, event_name, payload`,
      [owner, leaseMs, limit, ...filterParams],
    );
    // RETURNING follows no particular order.
    return rows.map(toEntry).sort(byId);
  }
}
