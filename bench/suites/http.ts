import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deleteBenchKeys, uniqueBenchPrefix } from '../harness/bench-keyspace.js';
import type { BenchCase, BenchSuite } from '../harness/bench-suite.interface.js';
import { runOperations } from '../harness/run-workload.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const IN_FLIGHT = [1, 50];
/** The seeded venue whose availability every case reads (demo data, `SEED_DEMO_DATA`). */
export const DEMO_VENUE_ID = '0b7d5c1e-5f0a-4c57-9d6e-0d2f3f6a0001';

/**
 * What each server process runs (`node --import ./src/runtime/register.mjs --input-type=module -e …`), chosen by
 * `BENCH_APP`: `bare`, a Nest app with booking-api's global ValidationPipe and a controller returning constant JSON
 * at `/bare` (decorators applied by hand, as plain JavaScript has no decorator syntax), and at `/bare/sized` the
 * constant `BENCH_SIZED_BODY` (the availability body, for the reference cases), and at `/bare/from-redis` that body
 * read from Redis with one plain ioredis `GET` (key `BENCH_REFERENCE_KEY`, stored at start) and `JSON.parse`d: the
 * least a route answering from Redis does; `api`, the real booking-api (`createApp`, embedded database, demo data).
 * Each prints its port once listening.
 */
const SERVER_SCRIPT = `
const { NestFactory } = await import('@nestjs/core');
const { Controller, Get, Module, ValidationPipe } = await import('@nestjs/common');
let app;
if (process.env.BENCH_APP === 'bare') {
  const sized = JSON.parse(process.env.BENCH_SIZED_BODY ?? 'null');
  const referenceKey = process.env.BENCH_REFERENCE_KEY;
  let redis;
  if (referenceKey) {
    const { Redis } = await import('ioredis');
    redis = new Redis(process.env.BENCH_REDIS_URL);
    await redis.set(referenceKey, JSON.stringify(sized));
    process.on('SIGTERM', () => redis.disconnect());
  }
  class BareController {
    get() { return { ok: true, venue: 'constant' }; }
    sized() { return sized; }
    async fromRedis() { return JSON.parse(await redis.get(referenceKey)); }
  }
  for (const [method, path] of [['get', ''], ['sized', 'sized'], ['fromRedis', 'from-redis']]) {
    Get(path)(BareController.prototype, method, Object.getOwnPropertyDescriptor(BareController.prototype, method));
  }
  Controller('bare')(BareController);
  class BareModule {}
  Module({ controllers: [BareController] })(BareModule);
  app = await NestFactory.create(BareModule, { logger: false });
  // The same global pipe as booking-api, so the comparison is about the route, not about validation being on.
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
} else {
  const { createApp } = await import('./apps/booking-api/src/app.factory.ts');
  app = await createApp({ logger: false });
}
// Idle keep-alive sockets wait between rounds longer than Node's 5 s default; the client must not race a close.
app.getHttpServer().keepAliveTimeout = 120000;
await app.listen(0, '127.0.0.1');
process.stdout.write(JSON.stringify({ port: app.getHttpServer().address().port }) + '\\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

/** A server child process, listening. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
}

/** Which app a server process runs (see `SERVER_SCRIPT`). */
export type BenchApp = 'bare' | 'api';

/** How `bench/profile-http*.ts` vary a server process; the suite uses the defaults. */
export interface ServerProcessOptions {
  /** Extra Node.js flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /**
   * The checkout whose booking-api runs (a copy of this repository, to compare two versions side by side).
   * @default this repository
   */
  root?: string;
}

/** Starts one server process and resolves once it listens. */
export function startServer(
  app: BenchApp,
  env: Record<string, string>,
  { nodeArgs = [], root = repoRoot }: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [...nodeArgs, '--import', './src/runtime/register.mjs', '--input-type=module', '-e', SERVER_SCRIPT],
    { cwd: root, env: { ...process.env, ...env, BENCH_APP: app }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const match = /\{"port":(\d+)\}/.exec(d.toString());
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${app} server exited (${code}): ${stderr.slice(-2_000)}`)));
  });
}

/** SIGTERM (the app closes and exits; a CPU profile is written then), SIGKILL after 5 s. */
export function stopServer(server: ServerProcess | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 5_000);
    server.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    server.child.kill('SIGTERM');
  });
}

/** booking-api's environment in every case: Redis under the run's prefix, embedded database with the demo data. */
export function benchApiEnv(redisUrl: string, prefix: string): Record<string, string> {
  return { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, SEED_DEMO_DATA: 'true', DATABASE_URL: '' };
}

/** Added to {@link benchApiEnv} for the L1-hit case. */
export const L1_ENV: Readonly<Record<string, string>> = { CACHE_L1_MAX_ENTRIES: '1000' };

/** The availability route of the demo venue today (UTC), as every case requests it. */
export function availabilityPath(): string {
  return `/venues/${DEMO_VENUE_ID}/availability?date=${new Date().toISOString().slice(0, 10)}`;
}

/** What the HTTP profile scripts serve: the suite's anchor, booking-api on a Redis hit, booking-api on an L1 hit. */
export const HTTP_SUBJECTS = ['bare', 'redis', 'l1'] as const;
export type HttpSubject = (typeof HTTP_SUBJECTS)[number];

/** How `subject` is served: its app, the environment it needs (booking-api's keys under `prefix`), its path. */
export function servingOf(
  subject: HttpSubject,
  redisUrl: string,
  prefix: string,
): { app: BenchApp; env: Record<string, string>; path: string } {
  if (subject === 'bare') return { app: 'bare', env: {}, path: '/bare' };
  const env = { ...benchApiEnv(redisUrl, prefix), ...(subject === 'l1' ? L1_ENV : {}) };
  return { app: 'api', env, path: availabilityPath() };
}

/**
 * The `<subject>[@tree]` arguments of the A/B profile scripts: what each case serves and from which checkout, each
 * with its own key prefix; `undefined` when one names no subject.
 */
export function subjectCases(
  args: string[],
  prefixName: string,
): { label: string; subject: HttpSubject; root: string; prefix: string }[] | undefined {
  const cases = args.map((arg) => {
    const [subject, tree = '.'] = arg.split('@') as [HttpSubject, string?];
    return { label: arg, subject, root: resolve(tree), prefix: uniqueBenchPrefix(prefixName) };
  });
  return cases.every((c) => HTTP_SUBJECTS.includes(c.subject)) ? cases : undefined;
}

/** One keep-alive GET that must answer 200; the body is read in full (as a client would) and dropped. */
export function get(agent: Agent, port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`GET ${path} → ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** One GET's body as text (must answer 200). */
function getBody(agent: Agent, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${path} → ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** `count` keep-alive GETs of `path`, `concurrency` of them in flight at any time (for the profile scripts). */
export async function sendRequests(
  server: ServerProcess,
  agent: Agent,
  path: string,
  count: number,
  concurrency: number,
): Promise<void> {
  await runOperations(count, concurrency, () => get(agent, server.port, path));
}

/**
 * HTTP round trips through Nest: a bare endpoint returning constant JSON (the anchor) against
 * `GET /venues/:id/availability` of the real booking-api served from `@Cacheable` (a Redis hit, and an L1 hit with
 * `CACHE_L1_MAX_ENTRIES`). Each app runs alone in its own process; the client is this process, keep-alive, the same
 * for every case. `× anchor` is the share of a bare endpoint's throughput the cached endpoint keeps (issue 16:
 * Redis hit ≥ 0.8× sequential and ≥ 1.1× at 50 in flight, L1 hit ≥ 1.0× both).
 *
 * Two reference cases, not ours and without a target, show how much of the gap the route's work itself explains: the
 * same bare app answering the availability body (about 630 bytes, read from booking-api at setup) as a constant
 * instead of its 30 bytes (what the body alone costs), and answering that body after one plain ioredis `GET` and
 * `JSON.parse` (the floor of any route served from Redis: the round trip). Every case is compared with the anchor,
 * so the headline rival of the availability cases stays the bare endpoint with constant JSON.
 */
export const httpSuite: BenchSuite = {
  description:
    'HTTP GET: bare Nest endpoint, constant JSON (anchor) vs availability served from the cache (Redis, L1); ' +
    'references: the bare endpoint answering the availability body, as a constant and from one raw Redis GET',

  async setup({ redisUrl, log }) {
    const prefix = uniqueBenchPrefix('http');
    const servers: ServerProcess[] = [];
    const agents: Agent[] = [];
    const teardown = async (): Promise<void> => {
      agents.forEach((agent) => agent.destroy());
      await Promise.allSettled(servers.map(stopServer));
      const redis = new Redis(redisUrl);
      try {
        log(`Deleted ${await deleteBenchKeys(redis, prefix)} keys under ${prefix}`);
      } finally {
        redis.disconnect();
      }
    };

    try {
      const apiEnv = benchApiEnv(redisUrl, prefix);
      const [redisHit, l1Hit] = await Promise.all([
        startServer('api', apiEnv),
        startServer('api', { ...apiEnv, ...L1_ENV }),
      ]);
      servers.push(redisHit, l1Hit);

      const availability = availabilityPath();
      const warm = new Agent({ keepAlive: true });
      agents.push(warm);
      for (const server of [redisHit, l1Hit]) {
        for (let i = 0; i < 3; i++) await get(warm, server.port, availability);
      }
      const sizedBody = await getBody(warm, l1Hit.port, availability);
      const bare = await startServer('bare', {
        BENCH_SIZED_BODY: sizedBody,
        BENCH_REDIS_URL: redisUrl,
        BENCH_REFERENCE_KEY: `${prefix}reference`,
      });
      servers.push(bare);
      log(
        `Servers listening: bare :${bare.port}, api :${redisHit.port}, api with L1 :${l1Hit.port}; ` +
          `availability body ${Buffer.byteLength(sizedBody)} bytes`,
      );

      const cases: BenchCase[] = IN_FLIGHT.flatMap((concurrency) => {
        // The issue-16 targets: the share of the bare endpoint's throughput each cached route keeps.
        const contenders = [
          { name: 'bare Nest endpoint (constant JSON)', server: bare, path: '/bare', anchor: true },
          {
            name: 'availability, @Cacheable Redis hit',
            server: redisHit,
            path: availability,
            anchor: false,
            target: concurrency === 1 ? 0.8 : 1.1,
          },
          { name: 'availability, @Cacheable L1 hit', server: l1Hit, path: availability, anchor: false, target: 1 },
          {
            name: 'reference: bare endpoint, availability-sized constant JSON',
            server: bare,
            path: '/bare/sized',
            anchor: false,
            target: undefined,
          },
          {
            name: 'reference: bare endpoint, that body from one raw Redis GET',
            server: bare,
            path: '/bare/from-redis',
            anchor: false,
            target: undefined,
          },
        ];
        return contenders.map(({ name, server, path, anchor, target }) => {
          const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
          agents.push(agent);
          return {
            name,
            group: `GET · ${concurrency} in flight`,
            anchor,
            target,
            concurrency,
            run: () => get(agent, server.port, path),
          };
        });
      });
      const processes = [
        { name: 'bare server', pid: bare.child.pid! },
        { name: 'api server', pid: redisHit.child.pid! },
        { name: 'api server with L1', pid: l1Hit.child.pid! },
      ];
      return { cases, teardown, involved: { processes } };
    } catch (error) {
      await teardown();
      throw error;
    }
  },
};
