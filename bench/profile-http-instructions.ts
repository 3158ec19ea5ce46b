/**
 * Instructions per request of the `http` suite's servers, which (unlike CPU time) do not move with the neighbours'
 * load: runs `bench/profile-http-inject.ts` for one case under valgrind (`cachegrind`, no cache simulation) twice,
 * with `--small` and `--large` measured requests after the same warm-up, and divides the difference of the total
 * instruction counts by the difference of requests, so start-up and warm-up cancel out. V8 runs `--single-threaded`
 * (compilation and GC on the main thread), so the work of a request is counted in the run that caused it. Cases
 * run two at a time (valgrind runs a process on one core).
 *
 *   node --import ./src/runtime/register.mjs bench/profile-http-instructions.ts l1@/tmp/ab/base l1@. bare \
 *     [--small 2000] [--large 6000] [--warmup 5000] [--concurrency 10] [--database-url postgres://…@127.0.0.1/test]
 *
 * Cases as in `profile-http-inject.ts` (`bare`, `redis` or `l1`, `@tree`). With `--database-url` booking-api uses
 * that PostgreSQL (schema `bench_http_inject`) instead of the embedded one, which starts far faster under valgrind.
 * Slow (3 to 8 minutes per booking-api run under valgrind), and not exact: the same case measured again moves by
 * 3 to 5 % (GC and compilation land differently; a cache entry expiring mid-run reloads it), so repeat a case and
 * read differences of a few percent as noise.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    small: { type: 'string', default: '2000' },
    large: { type: 'string', default: '22000' },
    warmup: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '10' },
    parallel: { type: 'string', default: '2' },
    'database-url': { type: 'string' },
  },
});
const [small, large, parallel] = [values.small, values.large, values.parallel].map(Number);
if (positionals.length < 1 || !(large > small && small >= 1 && parallel >= 1)) {
  process.stderr.write(
    'Usage: bench/profile-http-instructions.ts <bare|redis|l1>[@tree] … [--small n] [--large n] [--warmup n] ' +
      '[--concurrency n] [--parallel n] [--database-url url]\n',
  );
  process.exit(2);
}

/** Total instructions (`I refs`) of one run of the injection script with `requests` measured requests. */
function instructions(label: string, requests: number): Promise<number> {
  const args = [
    '--tool=cachegrind',
    '--cache-sim=no',
    '--cachegrind-out-file=/dev/null',
    process.execPath,
    // V8's deterministic mode: no background threads, no time-based GC or compiler heuristics (valgrind's speed varies).
    '--predictable',
    '--hash-seed=1',
    '--random-seed=1',
    '--max-semi-space-size=64',
    '--import',
    './src/runtime/register.mjs',
    'bench/profile-http-inject.ts',
    label,
    '--batches',
    '1',
    '--batch',
    String(requests),
    '--warmup',
    values.warmup!,
    '--concurrency',
    values.concurrency!,
    ...(values['database-url'] ? ['--database-url', values['database-url']] : []),
  ];
  const child = spawn('valgrind', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const refs = /I\s+refs:\s+([\d,]+)/.exec(stderr)?.[1];
      if (code !== 0 || !refs) reject(new Error(`${label} (${requests}) exited ${code}: ${stderr.slice(-2_000)}`));
      else resolve(Number(refs.replace(/,/g, '')));
    });
  });
}

const runs = positionals.flatMap((label, index) => [
  { index, label, requests: small },
  { index, label, requests: large },
]);
const results = new Map<string, number>();
let next = 0;
await Promise.all(
  Array.from({ length: parallel }, async () => {
    while (next < runs.length) {
      const run = runs[next++];
      results.set(`${run.index} ${run.requests}`, await instructions(run.label, run.requests));
      process.stderr.write(`done: ${run.label}, ${run.requests} requests\n`);
    }
  }),
);

process.stdout.write(`instructions per request (${large} − ${small} measured requests):\n`);
const perRequest = (index: number) =>
  (results.get(`${index} ${large}`)! - results.get(`${index} ${small}`)!) / (large - small);
for (const [index, label] of positionals.entries()) {
  const ratio = index === 0 ? '' : ` (${positionals[0]} ÷ this: ${(perRequest(0) / perRequest(index)).toFixed(3)}×)`;
  process.stdout.write(`  ${label}: ${Math.round(perRequest(index)).toLocaleString('en')}${ratio}\n`);
}
