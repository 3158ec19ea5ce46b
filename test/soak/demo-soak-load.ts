import { randomUUID } from 'node:crypto';
import { http, type HttpResult } from '../../src/demo/http.js';

/** The request kinds the soak counts apart. */
export const LOAD_KINDS = ['read', 'hold', 'book', 'cancel'] as const;
export type LoadKind = (typeof LOAD_KINDS)[number];

/**
 * How one request ended: `ok` (2xx), `refused` (an answer the demo gives by design under contention: 409 sold out
 * or hold already booked, 410 hold ended) or `error` (no answer, 5xx, 423 lock wait exhausted, 429, a 409 that asks
 * for a retry — `STALE_FENCING_TOKEN`, `SLOT_LOCK_LOST` —, anything else).
 */
export type Outcome = 'ok' | 'refused' | 'error';

/** 409 codes that ask the client to retry: a failed write, not an answer about the seats. */
const RETRY_CODES = new Set(['STALE_FENCING_TOKEN', 'SLOT_LOCK_LOST']);

/** One minute of requests per kind, and what the errors were (`<kind> <status>` → count). */
export class LoadTally {
  readonly counts = new Map<LoadKind, Record<Outcome, number>>(
    LOAD_KINDS.map((kind) => [kind, { ok: 0, refused: 0, error: 0 }]),
  );
  readonly errors = new Map<string, number>();
  readonly refusals = new Map<string, number>();
  private readonly latencies = new Map<LoadKind, number[]>(LOAD_KINDS.map((kind) => [kind, []]));

  record(kind: LoadKind, result: HttpResult, ms: number): Outcome {
    this.latencies.get(kind)!.push(ms);
    const code = (result.body as { code?: unknown } | null)?.code;
    const outcome: Outcome =
      result.status >= 200 && result.status < 300
        ? 'ok'
        : (result.status === 409 || result.status === 410) && !RETRY_CODES.has(String(code))
          ? 'refused'
          : 'error';
    this.counts.get(kind)![outcome] += 1;
    if (outcome !== 'ok') {
      const label = `${kind} ${result.status === 0 ? 'no answer' : result.status}${typeof code === 'string' ? ` ${code}` : ''}`;
      const into = outcome === 'error' ? this.errors : this.refusals;
      into.set(label, (into.get(label) ?? 0) + 1);
    }
    return outcome;
  }

  cell(kind: LoadKind): string {
    const { ok, refused, error } = this.counts.get(kind)!;
    return `${ok}/${refused}/${error}`;
  }

  /** The slowest 1 % of the kind's requests took at least this long (ms), errors and refusals included. */
  p99(kind: LoadKind): number {
    const sorted = [...this.latencies.get(kind)!].sort((a, b) => a - b);
    return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
  }

  addTo(total: LoadTally): void {
    for (const [kind, counts] of this.counts) {
      const into = total.counts.get(kind)!;
      into.ok += counts.ok;
      into.refused += counts.refused;
      into.error += counts.error;
    }
    for (const [label, count] of this.errors) total.errors.set(label, (total.errors.get(label) ?? 0) + count);
    for (const [label, count] of this.refusals) total.refusals.set(label, (total.refusals.get(label) ?? 0) + count);
    for (const [kind, list] of this.latencies) total.latencies.get(kind)!.push(...list);
  }
}

/** Where the load goes. */
export interface LoadTargets {
  apiUrls: string[];
  /** Venues whose availability (on `date`) the readers ask for. */
  venues: string[];
  date: string;
  /** Slots that holds and bookings pick from at random. */
  slotIds: string[];
}

/** Longer than the apps' lock wait (`BOOKING_LOCK_WAIT_MS` 5 s) plus the payment step: no answer in time is an error. */
const TIMEOUT_MS = 15_000;

/** Confirmed bookings kept before the canceller cancels the oldest first, so the slots never stay sold out. */
const LIVE_BOOKINGS_TARGET = 60;

/**
 * Steady, modest mixed load on the booking API, each loop one request at a time (about 6 requests/s in all, so two
 * shared cores are not saturated):
 * - 2 readers: `GET /venues/:id/availability` (cached), every 0.5 s each;
 * - 1 holder: `POST /holds` for one seat every 1.5 s; a hold is then confirmed (`POST /bookings { holdId }`, through
 *   the payment step) half the time, cancelled (`DELETE /holds/:id`) a quarter of the time, or left to expire and be
 *   released by the workers' job;
 * - 1 booker: `POST /bookings` for one seat every 2 s (its own Idempotency-Key);
 * - 1 canceller: every 1 s, `DELETE /bookings/:id` of the oldest confirmed booking once more than 60 are live, else of
 *   a random one a third of the time.
 * Requests alternate between replicas; each customer is its own client (`X-Client-Id`).
 */
export class DemoLoad {
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly live: string[] = [];
  private minute = new LoadTally();
  private n = 0;

  constructor(private readonly targets: LoadTargets) {}

  start(): void {
    this.running = true;
    this.loops = [
      this.loop(500, () => this.read()),
      this.loop(500, () => this.read()),
      this.loop(1_500, () => this.holdThenDecide()),
      this.loop(2_000, () => this.book()),
      this.loop(1_000, () => this.cancel()),
    ];
  }

  /** Returns the minute's tally and starts a new one. */
  takeMinute(): LoadTally {
    const done = this.minute;
    this.minute = new LoadTally();
    return done;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(everyMs: number, step: () => Promise<void>): Promise<void> {
    while (this.running) {
      const started = Date.now();
      await step();
      // ±20 % jitter, so the loops do not fall into step with one another or with the job's ticks.
      const pause = everyMs * (0.8 + Math.random() * 0.4) - (Date.now() - started);
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** One request, recorded under `kind` with its duration. */
  private async timed<Body>(kind: LoadKind, request: () => Promise<HttpResult<Body>>) {
    const started = performance.now();
    const result = await request();
    return { result, outcome: this.minute.record(kind, result, performance.now() - started) };
  }

  private replica(): string {
    return this.targets.apiUrls[this.n++ % this.targets.apiUrls.length]!;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(Math.random() * list.length)]!;
  }

  private customer(): { email: string; headers: Record<string, string> } {
    const id = randomUUID();
    return { email: `soak-${id.slice(0, 8)}@example.com`, headers: { 'x-client-id': `soak-${id}` } };
  }

  private async read(): Promise<void> {
    const venue = this.pick(this.targets.venues);
    const url = `${this.replica()}/venues/${venue}/availability?date=${this.targets.date}`;
    await this.timed('read', () => http('GET', url, { timeoutMs: TIMEOUT_MS }));
  }

  private async holdThenDecide(): Promise<void> {
    const customer = this.customer();
    const body = { slotId: this.pick(this.targets.slotIds), customerEmail: customer.email, seats: 1 };
    const url = `${this.replica()}/holds`;
    const hold = await this.timed('hold', () =>
      http<{ id: string }>('POST', url, { body, headers: customer.headers, timeoutMs: TIMEOUT_MS }),
    );
    if (hold.outcome !== 'ok') return;
    const holdId = hold.result.body.id;
    const choice = Math.random();
    if (choice >= 0.75) return; // left to expire: the workers' job releases it
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1_500));
    if (choice < 0.5) {
      const headers = { ...customer.headers, 'idempotency-key': randomUUID() };
      const bookingUrl = `${this.replica()}/bookings`;
      const booking = await this.timed('book', () =>
        http<{ id: string }>('POST', bookingUrl, { body: { holdId }, headers, timeoutMs: TIMEOUT_MS }),
      );
      if (booking.outcome === 'ok') this.live.push(booking.result.body.id);
    } else {
      const holdUrl = `${this.replica()}/holds/${holdId}`;
      await this.timed('hold', () => http('DELETE', holdUrl, { timeoutMs: TIMEOUT_MS }));
    }
  }

  private async book(): Promise<void> {
    const customer = this.customer();
    const body = { slotId: this.pick(this.targets.slotIds), customerEmail: customer.email, seats: 1 };
    const headers = { ...customer.headers, 'idempotency-key': randomUUID() };
    const url = `${this.replica()}/bookings`;
    const booking = await this.timed('book', () =>
      http<{ id: string }>('POST', url, { body, headers, timeoutMs: TIMEOUT_MS }),
    );
    if (booking.outcome === 'ok') this.live.push(booking.result.body.id);
  }

  private async cancel(): Promise<void> {
    let id: string | undefined;
    if (this.live.length > LIVE_BOOKINGS_TARGET) id = this.live.shift();
    else if (this.live.length > 0 && Math.random() < 1 / 3) {
      id = this.live.splice(Math.floor(Math.random() * this.live.length), 1)[0];
    }
    if (id === undefined) return;
    const url = `${this.replica()}/bookings/${id}`;
    await this.timed('cancel', () => http('DELETE', url, { timeoutMs: TIMEOUT_MS }));
  }
}
