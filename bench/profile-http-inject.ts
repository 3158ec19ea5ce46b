/**
 * The per-request work of the `http` suite's servers without the network: each case's Nest application is created
 * in this process (not listening) and requests are handed to its Express handler on in-memory sockets, so neither
 * the HTTP parser nor the socket write is counted, only what Express, Nest, the app and the library do per request.
 * Cases take turns running batches (order alternating), so a burst of load elsewhere hits all of them alike; each
 * prints its CPU time per request (this process, `process.cpuUsage`) and the first case's ÷ each other's, batch by
 * batch, with ± two standard errors.
 *
 *   node --import ./src/runtime/register.mjs bench/profile-http-inject.ts l1@/tmp/ab/base l1@. bare \
 *     [--batches 40] [--batch 2000] [--concurrency 10] [--warmup 5000] [--database-url postgres://…]
 *
 * On a shared machine CPU time moves with the neighbours' load; `bench/profile-http-instructions.ts` runs this
 * script under valgrind and counts instructions per request instead, which do not.
 *
 * A case is `bare` (the suite's anchor), `redis` or `l1` (booking-api's availability route on a Redis or an L1
 * hit), `@tree` naming the checkout whose booking-api runs (default: this one). Every tree runs on this checkout's
 * library (`@app/redis` resolves here), so compare app changes with it, not library changes.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { Controller, Get, type INestApplication, Module, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { deleteBenchKeys } from './harness/bench-keyspace.js';
import { servingOf, subjectCases } from './suites/http.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A socket that accepts every write and never reads: the response's bytes are counted and dropped. */
class NullSocket extends Duplex {
  constructor(private readonly counter: { bytesOut: number }) {
    super();
  }

  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40_000;
  readonly encrypted = false;

  override _read(): void {}

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.counter.bytesOut += chunk.length;
    callback();
  }

  setTimeout(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }
}

/** One GET through `handler`, as Node's HTTP server would hand it over; resolves with the status once finished. */
function inject(handler: Handler, path: string, socket: NullSocket): Promise<number> {
  const req = new IncomingMessage(socket as unknown as Socket);
  req.method = 'GET';
  req.url = path;
  req.httpVersion = '1.1';
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.headers = { host: '127.0.0.1', connection: 'keep-alive' };
  req.rawHeaders = ['Host', '127.0.0.1', 'Connection', 'keep-alive'];
  req.complete = true;
  req.push(null);
  const res = new ServerResponse(req);
  res.assignSocket(socket as unknown as Socket);
  return new Promise((done) => {
    res.once('finish', () => {
      res.detachSocket(socket as unknown as Socket);
      done(res.statusCode);
    });
    handler(req, res);
  });
}

@Controller('bare')
class BareController {
  @Get()
  get() {
    return { ok: true, venue: 'constant' };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

/** The suite's anchor, as `SERVER_SCRIPT` builds it. */
async function createBare(): Promise<INestApplication> {
  const app = await NestFactory.create(BareModule, { logger: false });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  return app;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    batches: { type: 'string', default: '40' },
    batch: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '5000' },
    'database-url': { type: 'string' },
  },
});
const cases = subjectCases(positionals, 'profile-http-inject');
const [batches, batch, concurrency, warmup] = [values.batches, values.batch, values.concurrency, values.warmup].map(
  Number,
);
if (cases === undefined || cases.length < 1 || ![batches, batch, concurrency].every((n) => n >= 1) || !(warmup >= 0)) {
  process.stderr.write(
    'Usage: bench/profile-http-inject.ts <bare|redis|l1>[@tree] … [--batches n] [--batch n] [--concurrency n]\n',
  );
  process.exit(2);
}
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Schema the apps use with `--database-url` (migrated and seeded by the app, idempotently; left in place). */
const DATABASE_SCHEMA = 'bench_http_inject';

interface Contender {
  label: string;
  app: INestApplication;
  handler: Handler;
  path: string;
  bytesOut: number;
  cpuUs: number[];
}

/** `count` requests, `concurrency` in flight; throws unless every one answers 200. */
async function run(c: Contender, count: number): Promise<void> {
  let issued = 0;
  const loop = async (): Promise<void> => {
    // One keep-alive connection per loop: a response holds its socket until it finishes.
    const socket = new NullSocket(c);
    while (issued < count) {
      issued++;
      const status = await inject(c.handler, c.path, socket);
      if (status !== 200) throw new Error(`${c.label}: GET ${c.path} → ${status}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, loop));
}

/** The first case's CPU/req ÷ this one's, batch by batch: geometric mean and ± two standard errors. */
function pairedRatio(firstUs: number[], theseUs: number[]): string {
  const logs = firstUs.map((f, i) => Math.log(f / theseUs[i]));
  const m = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, logs.length - 1));
  const se = sd / Math.sqrt(logs.length);
  return (
    `first's CPU/req ÷ this one's ${Math.exp(m).toFixed(3)}× ` +
    `(±2 SE ${Math.exp(m - 2 * se).toFixed(3)}–${Math.exp(m + 2 * se).toFixed(3)})`
  );
}

const contenders: Contender[] = [];
try {
  for (const { label, subject, root, prefix } of cases) {
    const { env, path } = servingOf(subject, redisUrl, prefix);
    let app: INestApplication;
    if (subject === 'bare') {
      app = await createBare();
    } else {
      // The app reads its configuration from the environment while it is created.
      Object.assign(process.env, env);
      // A PostgreSQL instead of the embedded database: much lighter to start under valgrind (the cache serves
      // every measured request either way).
      if (values['database-url']) {
        Object.assign(process.env, { DATABASE_URL: values['database-url'], DATABASE_SCHEMA: DATABASE_SCHEMA });
      }
      if (subject !== 'l1') delete process.env.CACHE_L1_MAX_ENTRIES;
      const { createApp } = (await import(`${root}/apps/booking-api/src/app.factory.ts`)) as {
        createApp(options: { logger: false }): Promise<INestApplication>;
      };
      app = await createApp({ logger: false });
    }
    await app.init();
    const handler = app.getHttpAdapter().getInstance() as Handler;
    contenders.push({ label, app, handler, path, bytesOut: 0, cpuUs: [] });
  }
  for (const c of contenders) await run(c, warmup);
  for (let round = 0; round < batches; round++) {
    for (const c of round % 2 === 0 ? contenders : [...contenders].reverse()) {
      const before = process.cpuUsage();
      await run(c, batch);
      const used = process.cpuUsage(before);
      c.cpuUs.push((used.user + used.system) / batch);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const first = contenders[0];
  process.stdout.write(`${concurrency} in flight, ${batches} batches of ${batch} per case, in-memory sockets\n`);
  for (const c of contenders) {
    const bytes = c.bytesOut / (c.cpuUs.length * batch + warmup);
    process.stdout.write(
      `  ${c.label}: CPU µs/req median ${median(c.cpuUs).toFixed(2)}, min ${Math.min(...c.cpuUs).toFixed(2)}, ` +
        `${Math.round(bytes)} bytes/response` +
        (c === first ? '' : `; ${pairedRatio(first.cpuUs, c.cpuUs)}`) +
        '\n',
    );
  }
} finally {
  for (const c of contenders) await c.app.close();
  const redis = new Redis(redisUrl);
  for (const { prefix } of cases) await deleteBenchKeys(redis, prefix);
  redis.disconnect();
}
