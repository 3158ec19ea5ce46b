/**
 * One server of the `http` bench suite under load, alone, for `--cpu-prof`: starts it exactly as the suite does
 * (same script, same environment), sends keep-alive GETs with a fixed number in flight, and prints ops/s and the CPU
 * time per request of the server and of this client. With `--prof-dir`, the server runs with `--cpu-prof` and
 * writes its profile there when it exits, and `window.json` beside it gives the measured window (monotonic µs, the
 * profile's clock) and the request count, so `bench/profile-http-summary.ts` leaves out start-up and warm-up.
 *
 *   node --import ./src/runtime/register.mjs bench/profile-http.ts <bare|redis|l1> \
 *     [--requests 20000] [--concurrency 10] [--prof-dir /tmp/http-prof]
 *
 * `bare` is the suite's anchor (constant JSON at `/bare`), `redis` booking-api's availability route served from a
 * Redis hit, `l1` the same with `CACHE_L1_MAX_ENTRIES` (an L1 hit). Uses `REDIS_URL` (default 127.0.0.1:6379) under a
 * prefix of its own, deleted at the end.
 */
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { processCpuUs } from './harness/cost-meter.js';
import { deleteBenchKeys, uniqueBenchPrefix } from './harness/bench-keyspace.js';
import { HTTP_SUBJECTS, type HttpSubject, sendRequests, servingOf, startServer, stopServer } from './suites/http.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '10' },
    'prof-dir': { type: 'string' },
  },
});
const subject = positionals[0] as HttpSubject;
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
if (
  !HTTP_SUBJECTS.includes(subject) ||
  !Number.isInteger(requests) ||
  !Number.isInteger(concurrency) ||
  concurrency < 1
) {
  process.stderr.write(
    'Usage: bench/profile-http.ts <bare|redis|l1> [--requests n] [--concurrency n] [--prof-dir dir]\n',
  );
  process.exit(2);
}

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = uniqueBenchPrefix('profile-http');
const nodeArgs = values['prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${values['prof-dir']}`] : [];
const { app, env, path } = servingOf(subject, redisUrl, prefix);

const server = await startServer(app, env, { nodeArgs });
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
try {
  await sendRequests(server, agent, path, Math.max(1_000, requests / 10), concurrency);
  const serverBefore = processCpuUs(server.child.pid!);
  const clientBefore = process.cpuUsage();
  const from = process.hrtime.bigint();
  await sendRequests(server, agent, path, requests, concurrency);
  const to = process.hrtime.bigint();
  const seconds = Number(to - from) / 1e9;
  if (values['prof-dir']) {
    const window = { fromUs: Number(from / 1_000n), toUs: Number(to / 1_000n), requests, subject, concurrency };
    writeFileSync(join(values['prof-dir'], 'window.json'), JSON.stringify(window));
  }
  const client = process.cpuUsage(clientBefore);
  const serverUs = processCpuUs(server.child.pid!) - serverBefore;
  process.stdout.write(
    `${subject}, ${concurrency} in flight: ${Math.round(requests / seconds)} req/s, CPU µs/req server ` +
      `${(serverUs / requests).toFixed(1)}, client ${((client.user + client.system) / requests).toFixed(1)}\n`,
  );
} finally {
  agent.destroy();
  await stopServer(server);
  if (subject !== 'bare') {
    const redis = new Redis(redisUrl);
    await deleteBenchKeys(redis, prefix).finally(() => redis.disconnect());
  }
}
