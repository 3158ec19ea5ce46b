import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort, REDIS_URL, uniqueKeyPrefix, useRedisClient } from '@test/harness';
import { AppProcess } from '../../../src/demo/app-process.js';
import { http } from '../../../src/demo/http.js';
import { DEMO_VENUE_ID } from '../src/database/seed-demo-data.js';
import { TEST_DATABASE_URL, TestSchema } from './support/test-database.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/paused-holder.ts', import.meta.url));
/** The holder's slot lock ttl; the demo's own is the module default (10 s). */
const TTL = 1_000;
/** The holder stays stopped at least this long, and always until the rival's booking answered. */
const MIN_PAUSE_MS = 3 * TTL;
const LINE_TIMEOUT_MS = 60_000;

const keyPrefix = uniqueKeyPrefix('api-paused-holder');
useRedisClient({ deleteKeysUnder: keyPrefix });

type Op = 'book' | 'cancel' | 'confirm';

/** The holder's `resumed` line (see the fixture). */
interface Resumed {
  op: Op;
  fence: number;
  workedMs: number;
  abortedOnResume: boolean;
  abortedAfterNextCall: boolean;
  abortedAfterNextCallViaGetter: boolean;
  reason: string | null;
  write: string;
  service: string;
}

interface Round {
  op: Op;
  workMs: number;
  holderFence: number;
  rivalFence: number;
  pausedMs: number;
  resumed: Resumed;
  staleWriteAccepted: boolean;
}

/** The holder process: commands on stdin, JSON lines on stdout, consumed in order. */
class HolderProcess {
  private readonly lines: Array<Record<string, unknown>> = [];
  private readonly waiters: Array<() => void> = [];
  private stderr = '';
  readonly child: ChildProcessWithoutNullStreams;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', './src/runtime/register.mjs', fixture, String(TTL)], {
      cwd: repoRoot,
      env: { ...process.env, ...env, NO_COLOR: '1' },
    });
    let buffer = '';
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        // Only the fixture's JSON lines; anything else (a stray log line) goes with stderr into failure messages.
        if (text.startsWith('{')) this.lines.push(JSON.parse(text) as Record<string, unknown>);
        else this.stderr += `${text}\n`;
        this.waiters.splice(0).forEach((wake) => wake());
      }
    });
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /** The next line, which must be `event`. */
  async next(event: string, timeoutMs = LINE_TIMEOUT_MS): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`holder printed no "${event}" within ${timeoutMs} ms: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    const line = this.lines.shift()!;
    if (line.event !== event) throw new Error(`holder printed ${JSON.stringify(line)}, expected "${event}"`);
    return line;
  }

  /** Resolves once the kernel reports the process stopped (state `T` in /proc/<pid>/stat). */
  async stopped(timeoutMs = LINE_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`holder did not stop within ${timeoutMs} ms`);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGCONT');
    this.child.stdin.end();
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  }
}

/**
 * Issue 17, the paused holder against the demo's own write path: booking-api's slot lock (`slot:<id>`, held by
 * `@WithLock` with its watchdog) and its fenced writes (`fenceSlot`: `slots.last_fencing_token`). The holder runs
 * booking-api's modules in a process of its own (`fixtures/paused-holder.ts`, lock ttl 1 s), starts a booking, a
 * cancellation or a hold confirmation, and is SIGSTOPped under the slot lock just before the repository's write;
 * the rival, a booking-api process started as `main.ts` runs it on the same Redis prefix and PostgreSQL schema,
 * books the same slot with `POST /bookings` once the lock ran out. On SIGCONT the holder notes its lock's `signal`,
 * then runs the repository's write with its stale token anyway: PostgreSQL must refuse it.
 */
describe('booking-api: a holder of the slot lock SIGSTOPped past its ttl cannot write once a rival booked', () => {
  const schema = new TestSchema('api_paused_holder');
  let rival: AppProcess;
  let holder: HolderProcess;
  const rounds: Round[] = [];

  beforeAll(async () => {
    const env = {
      REDIS_URL,
      REDIS_KEY_PREFIX: keyPrefix,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema.name,
      DATABASE_POOL_SIZE: '2',
      PAYMENT_DELAY_MS: '0',
      // The rival waits for the slot lock until the paused holder's ttl ran out, however loaded the machine is.
      BOOKING_LOCK_WAIT_MS: '30000',
    };
    const [port, managementPort] = [await freePort(), await freePort()];
    rival = new AppProcess(
      'booking-api (rival)',
      ['--import', './src/runtime/register.mjs', 'apps/booking-api/src/main.ts'],
      port,
      managementPort,
      {
        ...env,
        PORT: String(port),
        MANAGEMENT_PORT: String(managementPort),
        SEED_DEMO_DATA: 'true',
        RATE_LIMIT_LIMIT: '1000',
      },
    );
    rival.start();
    expect((await rival.waitHealthy('/health/ready', 90_000)).status).toBe(200);
    // Started once the rival migrated and seeded the schema.
    holder = new HolderProcess(env);
    await holder.next('ready', 90_000);
  }, 200_000);

  afterAll(async () => {
    process.stdout.write(
      `\n[fault] booking-api paused holder (slot lock ttl ${TTL} ms, SIGSTOP >= ${MIN_PAUSE_MS} ms)\n` +
        rounds
          .map(
            (r) =>
              `  ${r.op.padEnd(7)} work ${String(r.workMs).padStart(4)} ms: paused ${r.pausedMs} ms, fence ${r.holderFence} -> rival ${r.rivalFence}, ` +
              `aborted on resume ${r.resumed.abortedOnResume} / after next call ${r.resumed.abortedAfterNextCall}, ` +
              `reason ${r.resumed.reason?.replace(/"slot:[^"]+"/, '"slot:…"')}, write ${r.resumed.write}, service ${r.resumed.service}`,
          )
          .join('\n') +
        `\n  stale writes accepted: ${rounds.filter((r) => r.staleWriteAccepted).length} of ${rounds.length}\n`,
    );
    await holder?.close();
    await rival?.stop();
    await schema.drop();
  });

  /** A slot of its own for one round: 10 seats tomorrow at the demo venue. */
  async function newSlot(): Promise<string> {
    const id = randomUUID();
    await schema.query(
      `INSERT INTO slots (id, venue_id, starts_at, ends_at, capacity)
       VALUES ($1, $2, now() + interval '1 day', now() + interval '1 day 1 hour', 10)`,
      [id, DEMO_VENUE_ID],
    );
    return id;
  }

  async function book(slotId: string, customer: string): Promise<{ id: string; fencingToken: number }> {
    const response = await http<{ id: string; fencingToken: number }>('POST', `${rival.baseUrl}/bookings`, {
      body: { slotId, customerEmail: `${customer}@example.com`, seats: 1 },
      headers: { 'idempotency-key': randomUUID() },
      timeoutMs: 60_000,
    });
    expect({ status: response.status, body: response.body }).toMatchObject({ status: 201 });
    return response.body;
  }

  /** What the holder's command needs: a booking to cancel or a hold to confirm, made through the rival's API. */
  async function prepare(op: Op, slotId: string): Promise<Record<string, unknown>> {
    if (op === 'book') return { slotId, key: randomUUID() };
    if (op === 'cancel') return { bookingId: (await book(slotId, 'earlier')).id };
    const hold = await http<{ id: string }>('POST', `${rival.baseUrl}/holds`, {
      body: { slotId, customerEmail: 'held@example.com', seats: 1 },
      timeoutMs: 60_000,
    });
    expect({ status: hold.status, body: hold.body }).toMatchObject({ status: 201 });
    return { holdId: hold.body.id, key: randomUUID() };
  }

  /** Whether the database shows any effect of the holder's write, beyond the rival's. */
  async function holderWriteVisible(op: Op, slotId: string, command: Record<string, unknown>): Promise<boolean> {
    if (op === 'book') {
      const rows = await schema.query(`SELECT 1 FROM bookings WHERE idempotency_key = $1`, [command.key]);
      return rows.length > 0;
    }
    if (op === 'cancel') {
      const [row] = await schema.query<{ status: string }>(`SELECT status FROM bookings WHERE id = $1`, [
        command.bookingId,
      ]);
      return row!.status !== 'confirmed';
    }
    const [hold] = await schema.query<{ status: string }>(`SELECT status FROM holds WHERE id = $1`, [command.holdId]);
    const bookings = await schema.query(`SELECT 1 FROM bookings WHERE hold_id = $1 AND slot_id = $2`, [
      command.holdId,
      slotId,
    ]);
    return hold!.status !== 'held' || bookings.length > 0;
  }

  const cases: Array<[Op, number]> = [
    // The work's timer is due before the lock's renewal (ttl / 3 after arming): on resume the holder's code runs
    // first and makes its library call before any watchdog timer fired.
    ['book', 100],
    // The renewal is due first: the watchdog finds the validity over as soon as the process resumes.
    ['book', 1_500],
    ['cancel', 100],
    ['cancel', 1_500],
    ['confirm', 100],
    ['confirm', 1_500],
  ];

  it.each(cases)(
    '%s, work of %i ms paused: signal aborted before the next library call returns; PostgreSQL refuses the stale write by fencing token',
    async (op, workMs) => {
      const slotId = await newSlot();
      const command = { op, workMs, ...(await prepare(op, slotId)) };
      holder.send(command);
      const held = await holder.next('held');
      await holder.stopped();
      const stoppedAt = Date.now();
      // The rival: a request to booking-api for the same slot, served once the holder's lock ran out.
      const rivalBooking = await book(slotId, 'rival');
      while (Date.now() - stoppedAt < MIN_PAUSE_MS) {
        await new Promise((resolve) => setTimeout(resolve, stoppedAt + MIN_PAUSE_MS - Date.now() + 1));
      }
      const pausedMs = Date.now() - stoppedAt;
      holder.child.kill('SIGCONT');
      const resumed = (await holder.next('resumed')) as unknown as Resumed;
      const [slot] = await schema.query<{ last_fencing_token: string }>(
        `SELECT last_fencing_token FROM slots WHERE id = $1`,
        [slotId],
      );
      const visible = await holderWriteVisible(op, slotId, command);
      rounds.push({
        op,
        workMs,
        holderFence: held.fence as number,
        rivalFence: rivalBooking.fencingToken,
        pausedMs,
        resumed,
        staleWriteAccepted: resumed.write === 'accepted' || visible,
      });

      expect(rivalBooking.fencingToken).toBeGreaterThan(held.fence as number);
      expect(resumed.fence).toBe(held.fence);
      expect(resumed.workedMs).toBeGreaterThanOrEqual(MIN_PAUSE_MS);
      expect(resumed.abortedAfterNextCall).toBe(true);
      expect(resumed.reason).toMatch(/^LockLostError/);
      expect(resumed.write).toBe('STALE_FENCING_TOKEN');
      expect(resumed.service).toMatch(/^409 (SLOT_LOCK_LOST|STALE_FENCING_TOKEN)$/);
      expect(visible).toBe(false);
      expect(Number(slot!.last_fencing_token)).toBe(rivalBooking.fencingToken);
    },
  );
});
