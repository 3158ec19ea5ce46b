import type { INestApplication } from '@nestjs/common';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { ClientProxy } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { CHECK_NAMES } from './check-names.js';
import { processingHookCalls } from './consumer-app.js';
import { consumerRedisConfig, EVENTS_CLIENT } from './consumer.config.js';
import { EventsController } from './events.controller.js';
import { LedgerService } from './ledger.service.js';
import { PriceBoard } from './price-board.service.js';
import { QuoteService } from './quote.service.js';

/** One behaviour of the library, asserted in a booted consumer app; `run` throws (with the reason) when it fails. */
export interface ConsumerCheck {
  name: string;
  run(app: INestApplication): Promise<void>;
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Fails after `ms` instead of hanging when something never arrives. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits (up to 5 s) for `condition`; the check's own assertion then says what did not happen. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Keys under the consumer's prefix (SCAN, never KEYS), read with a client of its own (not the library's). */
async function keysUnderPrefix(): Promise<string[]> {
  const { url, keyPrefix } = consumerRedisConfig();
  const observer = new Redis(url, { lazyConnect: true });
  try {
    await observer.connect();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await observer.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    observer.disconnect();
  }
}

/** The behaviours every consumer app proves, under `node` and under its Jest e2e setup. */
export const CONSUMER_CHECKS: ConsumerCheck[] = [
  {
    name: CHECK_NAMES.cacheable,
    async run(app) {
      const quotes = app.get(QuoteService);
      const first = await quotes.quote('ACME');
      const second = await quotes.quote('ACME');
      assert(quotes.calls === 1, `the method body ran ${quotes.calls} times for two calls`);
      assert(JSON.stringify(second) === JSON.stringify(first), `cached ${JSON.stringify(second)}`);
      const keys = await keysUnderPrefix();
      assert(
        keys.some((key) => key.includes('quote:ACME')),
        `no cache entry under the prefix: ${keys.join(', ')}`,
      );
    },
  },
  {
    name: CHECK_NAMES.withLock,
    async run(app) {
      const ledger = app.get(LedgerService);
      await Promise.all([ledger.post('alice'), ledger.post('alice'), ledger.post('alice')]);
      assert(ledger.completed === 3, `${ledger.completed} of 3 calls completed`);
      assert(ledger.maxInside === 1, `${ledger.maxInside} calls were inside the lock at once`);
    },
  },
  {
    name: CHECK_NAMES.cacheManager,
    async run(app) {
      const board = app.get(PriceBoard);
      assert(board.cache === app.get(CACHE_MANAGER), 'the Cache class token and CACHE_MANAGER are different objects');
      await board.publish('ACME', 43);
      const read = await board.read('ACME');
      assert(read?.price === 43, `read back ${JSON.stringify(read)}`);
      const keys = await keysUnderPrefix();
      assert(
        keys.some((key) => key.includes('board:ACME')),
        `no CACHE_MANAGER entry under the prefix: ${keys.join(', ')}`,
      );
    },
  },
  {
    name: CHECK_NAMES.transportSend,
    async run(app) {
      const client = app.get<ClientProxy>(EVENTS_CLIENT);
      const total = await within(lastValueFrom(client.send<number>('sum', [1, 2, 39])), 10_000, 'sum reply');
      assert(total === 42, `sum replied ${total}`);
    },
  },
  {
    name: CHECK_NAMES.transportEmit,
    async run(app) {
      const client = app.get<ClientProxy>(EVENTS_CLIENT);
      const id = `note-${process.pid}-${Date.now()}`;
      const arrival = app.get(EventsController).nextNote(id);
      await within(lastValueFrom(client.emit('noted', { id })), 10_000, 'emit');
      const note = await within(arrival, 10_000, 'the noted event');
      assert(note.id === id, `received ${JSON.stringify(note)}`);
    },
  },
  {
    name: CHECK_NAMES.processingHooks,
    async run(app) {
      // An end hook runs once its handler has settled, which can be just after the caller got the reply or the event
      // arrived: let the earlier checks' runs finish before counting.
      await until(() => processingHookCalls.ended === processingHookCalls.started);
      const before = { ...processingHookCalls };
      const client = app.get<ClientProxy>(EVENTS_CLIENT);
      await within(lastValueFrom(client.send<number>('sum', [1])), 10_000, 'sum reply');
      await until(() => processingHookCalls.ended > before.ended);
      const calls = {
        started: processingHookCalls.started - before.started,
        ended: processingHookCalls.ended - before.ended,
      };
      assert(calls.started === 1 && calls.ended === 1, `hooks ran ${JSON.stringify(calls)} for one request`);
    },
  },
  {
    name: CHECK_NAMES.health,
    async run(app) {
      const response = await fetch(`${await app.getUrl()}/health`);
      const body = (await response.json()) as { status?: string; info?: { redis?: { status?: string } } };
      assert(response.status === 200, `GET /health answered ${response.status}: ${JSON.stringify(body)}`);
      assert(body.status === 'ok' && body.info?.redis?.status === 'up', `health body ${JSON.stringify(body)}`);
    },
  },
];

/** Closes the transport client the app module created (ClientProxy has no lifecycle hook of its own). */
export async function closeConsumerApp(app: INestApplication): Promise<void> {
  await app.get<ClientProxy>(EVENTS_CLIENT).close();
  await app.close();
}
