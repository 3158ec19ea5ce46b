/**
 * Several `http` bench servers side by side, for a before/after on a busy machine: each case is a server kind
 * (`bare`, `redis`, `l1`, as in `bench/profile-http.ts`) from a tree (a copy of this repository, `.` for this one),
 * started as the suite starts it; the cases take turns serving short bursts of keep-alive GETs (order alternating),
 * so every version sees the same background load. Prints, per case, the server's CPU time per request (mean over the
 * bursts, median and lowest burst) and ops/s (median burst), and the first case's mean CPU/req ÷ each other's.
 *
 *   node --import ./src/runtime/register.mjs bench/profile-http-ab.ts l1@/tmp/ab/base l1@/tmp/ab/new bare@. \
 *     [--bursts 20] [--burst 1000] [--concurrency 10]
 *
 * Make a tree with `mkdir /tmp/ab/new && git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C
 * /tmp/ab/new && ln -s "$PWD/node_modules" /tmp/ab/new/`.
 */
import { Agent } from 'node:http';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { deleteBenchKeys } from './harness/bench-keyspace.js';
import { processCpuUs } from './harness/cost-meter.js';
import { sendRequests, type ServerProcess, servingOf, startServer, stopServer, subjectCases } from './suites/http.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    bursts: { type: 'string', default: '20' },
    burst: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '10' },
  },
});
const cases = subjectCases(positionals, 'profile-http-ab');
const [bursts, burst, concurrency] = [values.bursts, values.burst, values.concurrency].map(Number);
if (cases === undefined || cases.length < 1 || ![bursts, burst, concurrency].every((n) => n >= 1)) {
  process.stderr.write(
    'Usage: bench/profile-http-ab.ts <bare|redis|l1>[@tree] … [--bursts n] [--burst n] [--concurrency n]\n',
  );
  process.exit(2);
}

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Contender {
  label: string;
  path: string;
  server: ServerProcess;
  agent: Agent;
  cpuUs: number[];
  opsPerSec: number[];
}

/**
 * The first case's CPU/req ÷ this one's, burst by burst (bursts of one round ran back to back, so they shared the
 * machine's state): the geometric mean of the ratios and ± two standard errors of it. Above 1: this case is cheaper.
 */
function pairedRatio(firstUs: number[], theseUs: number[]): string {
  const logs = firstUs.map((f, i) => Math.log(f / theseUs[i]));
  const m = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, logs.length - 1));
  const se = sd / Math.sqrt(logs.length);
  return `first's CPU/req ÷ this one's ${Math.exp(m).toFixed(3)}× (±2 SE ${Math.exp(m - 2 * se).toFixed(3)}–${Math.exp(m + 2 * se).toFixed(3)})`;
}

const contenders: Contender[] = [];
try {
  for (const { label, subject, root, prefix } of cases) {
    const { app, env, path } = servingOf(subject, redisUrl, prefix);
    const server = await startServer(app, env, { root });
    contenders.push({
      label,
      path,
      server,
      agent: new Agent({ keepAlive: true, maxSockets: concurrency }),
      cpuUs: [],
      opsPerSec: [],
    });
  }
  for (const c of contenders) await sendRequests(c.server, c.agent, c.path, Math.max(2_000, burst), concurrency);
  for (let round = 0; round < bursts; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const before = processCpuUs(c.server.child.pid!);
      const start = performance.now();
      await sendRequests(c.server, c.agent, c.path, burst, concurrency);
      c.opsPerSec.push(burst / ((performance.now() - start) / 1_000));
      c.cpuUs.push((processCpuUs(c.server.child.pid!) - before) / burst);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = contenders[0];
  process.stdout.write(
    `${concurrency} in flight, ${bursts} bursts of ${burst} per case, load at the end ${loadavg()[0].toFixed(2)}\n`,
  );
  for (const c of contenders) {
    process.stdout.write(
      `  ${c.label}: CPU µs/req mean ${mean(c.cpuUs).toFixed(1)}, median ${median(c.cpuUs).toFixed(1)}, ` +
        `min ${Math.min(...c.cpuUs).toFixed(1)}; req/s median ${Math.round(median(c.opsPerSec))}` +
        (c === first ? '' : `; ${pairedRatio(first.cpuUs, c.cpuUs)}`) +
        '\n',
    );
  }
} finally {
  for (const c of contenders) {
    c.agent.destroy();
    await stopServer(c.server);
  }
  const redis = new Redis(redisUrl);
  for (const { prefix } of cases) await deleteBenchKeys(redis, prefix);
  redis.disconnect();
}
