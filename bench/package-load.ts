/**
 * The measurements behind the packaging (issue 12: a `require` condition over the ES build, or a dual build): packs
 * the library as `npm test`'s consumer matrix does and installs it into the consumer apps of `test/consumers` (their
 * committed lockfiles, `npm ci`, then the tarball with `npm install --no-save`), then measures
 *
 *   (a) `require()` of every entry point from a CommonJS app, through the export map (Node takes `module-sync`: the
 *       ES build), in the Nest 12 and the Nest 11 CommonJS app;
 *   (b) `require()` of the CommonJS build's files directly, in the same apps: what a loader without `module-sync` gets;
 *   (c) `import()` of every entry point from the Nest 12 ES-module app;
 *   (d) the Nest 11 CommonJS app's Jest e2e run (ts-jest, Jest's CommonJS runtime, as `nest new` 11 generates it),
 *       once as packed and once with the installed package's `require` condition pointed at the ES build;
 *
 * and the tarball's size with and without `dist/cjs`. Each load is a fresh `node` process (`--runs` of each case,
 * after one untimed warm-up run, cases interleaved round by round); its peers are loaded first, so "library" is the
 * package's own cost. Prints Markdown tables and writes `bench/results/package-load-<timestamp>.json`.
 *
 *   node --import ./src/runtime/register.mjs bench/package-load.ts [--runs 15] [--skip-jest]
 *
 * Needs the Redis at REDIS_URL (default 127.0.0.1:6379) for (d); the npm registry only for packages missing from the
 * npm cache. Takes 3–6 minutes on 2 CPUs, most of it `npm ci`.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify, stripVTControlCharacters } from 'node:util';
import { Redis } from 'ioredis';
import { deleteKeysWithPrefix, uniqueKeyPrefix } from '../test/harness/key-prefix.js';
import { REDIS_URL } from '../test/harness/redis-url.js';
import { consumerEnv, copyConsumerApp, npm, packLibrary, sh } from '../test/consumers/support/consumer-apps.js';
import { readBenchEnvironment } from './harness/bench-environment.js';

const run = promisify(execFile);
const RESULTS_DIRECTORY = fileURLToPath(new URL('./results/', import.meta.url));
const INSTALLED = 'node_modules/@localcloudlab/nest-redis';
const STEP_TIMEOUT_MS = 600_000;

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, 'skip-jest': { type: 'boolean', default: false } },
});
const RUNS = Number(args.runs);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * Loads every entry point of the installed package and prints how long its peers and then the package took.
 * `require` goes through the export map; `cjs-build` requires the files the `require` condition names, by path, as a
 * loader that ignores `module-sync` would; `import` runs `import()`. The peers are the package's peer dependencies
 * that the app installs.
 */
const PROBE = `
const { readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { performance } = require('node:perf_hooks');
const mode = process.argv[2];
const NAME = '@localcloudlab/nest-redis';
const manifestPath = require.resolve(NAME + '/package.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const app = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8'));
const peers = Object.keys(manifest.peerDependencies).filter((name) => name in app.dependencies);
const targets = Object.entries(manifest.exports)
  .filter(([subpath]) => subpath !== './package.json')
  .map(([subpath, conditions]) =>
    mode === 'cjs-build' ? join(dirname(manifestPath), conditions.require.default)
      : subpath === '.' ? NAME : NAME + '/' + subpath.slice(2));
const load = mode === 'import' ? (specifier) => import(specifier) : async (specifier) => require(specifier);
(async () => {
  const start = performance.now();
  for (const peer of peers) await load(peer);
  const peersLoaded = performance.now();
  const cpu = process.cpuUsage();
  for (const target of targets) await load(target);
  const libraryCpu = process.cpuUsage(cpu);
  const done = performance.now();
  const processCpu = process.cpuUsage();
  const cjsFiles = Object.keys(require.cache).filter((file) => file.includes('/nest-redis/dist/cjs/')).length;
  process.stdout.write(JSON.stringify({
    peersMs: peersLoaded - start,
    libraryMs: done - peersLoaded,
    libraryCpuMs: (libraryCpu.user + libraryCpu.system) / 1000,
    processCpuMs: (processCpu.user + processCpu.system) / 1000,
    cjsFiles,
  }) + '\\n');
})();
`;

interface LoadCase {
  label: string;
  app: string;
  mode: 'require' | 'cjs-build' | 'import';
}

const LOAD_CASES: LoadCase[] = [
  { label: '(a) require() via export map → module-sync ES build', app: 'nest12-cjs', mode: 'require' },
  { label: '(b) require() of the CommonJS build', app: 'nest12-cjs', mode: 'cjs-build' },
  { label: '(a) require() via export map → module-sync ES build', app: 'nest11-cjs', mode: 'require' },
  { label: '(b) require() of the CommonJS build', app: 'nest11-cjs', mode: 'cjs-build' },
  { label: '(c) import() → ES build', app: 'nest12-esm', mode: 'import' },
];

/** One fresh `node` process: its wall time (spawn to exit) and what the probe measured inside it. */
interface Sample {
  wallMs: number;
  processCpuMs: number;
  peersMs: number;
  libraryMs: number;
  libraryCpuMs: number;
  cjsFiles: number;
  stderr: string;
}

const MEASURES = ['wallMs', 'processCpuMs', 'peersMs', 'libraryMs', 'libraryCpuMs'] as const;

/**
 * A consumer app made with the consumer matrix's steps (test/consumers/support/consumer-apps.ts): the fixture, plus
 * for a Jest run the shared sources, `npm ci`, then the tarball. The probes are written next to the app's package.json.
 */
async function installConsumer(dir: string, workDir: string, tarball: string, withSources: boolean) {
  const appDir = join(workDir, dir);
  await copyConsumerApp(dir, appDir, withSources ? ['src', 'test'] : []);
  await npm(['ci'], appDir);
  await npm(['install', '--no-save', tarball], appDir);
  await writeFile(join(appDir, 'probe-load.cjs'), PROBE);
  // import() from an ES module, as an ES-module app issues it; require() from a CommonJS file.
  await writeFile(
    join(appDir, 'probe-load.mjs'),
    `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n${PROBE}`,
  );
  return appDir;
}

async function sampleLoad(appDir: string, mode: LoadCase['mode']): Promise<Sample> {
  const start = process.hrtime.bigint();
  const probe = mode === 'import' ? 'probe-load.mjs' : 'probe-load.cjs';
  const { stdout, stderr } = await sh(process.execPath, [probe, mode], appDir);
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { wallMs, ...(JSON.parse(stdout) as Omit<Sample, 'wallMs' | 'stderr'>), stderr: stderr.trim() };
}

function quantile(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  return sorted[low] + (sorted[Math.ceil(position)] - sorted[low]) * (position - low);
}

/** Median, interquartile range and extremes of one measure, in ms. */
function summarize(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    median: round(quantile(sorted, 0.5)),
    p25: round(quantile(sorted, 0.25)),
    p75: round(quantile(sorted, 0.75)),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
  };
}

/** `npm pack --dry-run --json` of a package folder: compressed size, unpacked size, file count. */
async function packStats(packageDir: string) {
  const { stdout } = await sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], packageDir);
  const [{ size, unpackedSize, entryCount }] = JSON.parse(stdout) as {
    size: number;
    unpackedSize: number;
    entryCount: number;
  }[];
  return { packedBytes: size, unpackedBytes: unpackedSize, files: entryCount };
}

/** The packed package as published, and the same without `dist/cjs` (an ES-only package). */
async function tarballSizes(tarball: string, workDir: string) {
  const full = join(workDir, 'sizes/full');
  await mkdir(full, { recursive: true });
  await sh('tar', ['-xzf', tarball, '-C', full, '--strip-components=1'], workDir);
  const esOnly = join(workDir, 'sizes/es-only');
  await cp(full, esOnly, { recursive: true });
  await rm(join(esOnly, 'dist/cjs'), { recursive: true });
  return { dual: await packStats(full), esOnly: await packStats(esOnly) };
}

interface JestOutcome {
  variant: string;
  wallMs: number;
  passed: number;
  failed: number;
  /** Test files that could not run at all (a module that does not load fails the file before any test). */
  filesFailedToRun: number;
  /** The first lines of the first failure: a suite that cannot load, or a failed test. */
  firstError?: string;
}

async function runJest(appDir: string, id: string, variant: string, keyPrefix: string): Promise<JestOutcome> {
  const report = join(appDir, `jest-${id}.json`);
  const start = process.hrtime.bigint();
  await run('npm', ['run', 'test:e2e', '--', '--no-cache', '--json', `--outputFile=${report}`], {
    cwd: appDir,
    env: consumerEnv({ REDIS_URL, KEY_PREFIX: keyPrefix }),
    timeout: STEP_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  }).catch(() => undefined);
  const wallMs = Math.round(Number(process.hrtime.bigint() - start) / 1e6);
  const parsed = JSON.parse(await readFile(report, 'utf8').catch(() => '{}')) as {
    numPassedTests?: number;
    numFailedTests?: number;
    numRuntimeErrorTestSuites?: number;
    testResults?: { message: string }[];
  };
  const message = parsed.testResults?.find((file) => file.message)?.message ?? '';
  // Jest colours its messages even in the JSON file.
  const plain = stripVTControlCharacters(message);
  return {
    variant,
    wallMs,
    passed: parsed.numPassedTests ?? 0,
    failed: parsed.numFailedTests ?? 0,
    filesFailedToRun: parsed.numRuntimeErrorTestSuites ?? 0,
    ...(plain && { firstError: plain.split('\n').filter(Boolean).slice(0, 8).join('\n') }),
  };
}

/** Points the installed package's `require` condition at the ES build, as a require(esm)-only package would. */
async function requireConditionToEsBuild(appDir: string): Promise<void> {
  const path = join(appDir, INSTALLED, 'package.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as { exports: Record<string, Record<string, unknown>> };
  for (const conditions of Object.values(manifest.exports)) {
    if (typeof conditions === 'object' && conditions.import) conditions.require = conditions.import;
  }
  await writeFile(path, JSON.stringify(manifest, null, 2));
}

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error(`--runs expects an integer >= 3, got ${args.runs}`);
  const environment = await readBenchEnvironment(REDIS_URL);
  const workDir = await mkdtemp(join(tmpdir(), 'nest-redis-package-load-'));
  const keyPrefix = uniqueKeyPrefix('package-load');
  try {
    log('packing the library (prepack: ES + CommonJS build)');
    const tarball = await packLibrary(workDir);
    const sizes = await tarballSizes(tarball, workDir);

    const apps = new Map<string, string>();
    for (const app of new Set(LOAD_CASES.map((c) => c.app))) {
      log(`installing ${app}`);
      apps.set(app, await installConsumer(app, workDir, tarball, app === 'nest11-cjs'));
    }

    const samples = new Map<LoadCase, Sample[]>(LOAD_CASES.map((c) => [c, []]));
    for (const c of LOAD_CASES) await sampleLoad(apps.get(c.app)!, c.mode);
    for (let round = 0; round < RUNS; round++) {
      log(`load round ${round + 1}/${RUNS}`);
      // Rotating the order spreads drifts of the machine's load over every case alike.
      const order = LOAD_CASES.map((_, i) => LOAD_CASES[(i + round) % LOAD_CASES.length]);
      for (const c of order) samples.get(c)!.push(await sampleLoad(apps.get(c.app)!, c.mode));
    }
    const loads = LOAD_CASES.map((c) => {
      const runs = samples.get(c)!;
      return {
        ...c,
        ...(Object.fromEntries(MEASURES.map((m) => [m, summarize(runs.map((s) => s[m]))])) as Record<
          (typeof MEASURES)[number],
          ReturnType<typeof summarize>
        >),
        cjsFilesLoaded: Math.max(...runs.map((s) => s.cjsFiles)),
        stderr: [...new Set(runs.map((s) => s.stderr).filter(Boolean))],
      };
    });

    const jest: JestOutcome[] = [];
    if (!args['skip-jest']) {
      const appDir = apps.get('nest11-cjs')!;
      log('(d) Jest e2e of nest11-cjs, as packed');
      jest.push(await runJest(appDir, 'cjs', 'require → dist/cjs (as packed)', `${keyPrefix}cjs:`));
      await requireConditionToEsBuild(appDir);
      log('(d) Jest e2e of nest11-cjs, require condition → ES build');
      jest.push(await runJest(appDir, 'esm', 'require → ES build (require(esm) only)', `${keyPrefix}esm:`));
    }

    const result = { environment, runs: RUNS, command: process.argv.slice(1).join(' '), sizes, loads, jest };
    await mkdir(RESULTS_DIRECTORY, { recursive: true });
    const file = join(RESULTS_DIRECTORY, `package-load-${environment.date.replace(/:/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(formatResult(result));
    log(`written: ${file}`);
  } finally {
    const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client
      .connect()
      .then(() => deleteKeysWithPrefix(client, keyPrefix))
      .catch(() => undefined);
    client.disconnect();
    await rm(workDir, { recursive: true, force: true });
  }
}

type Result = {
  environment: Awaited<ReturnType<typeof readBenchEnvironment>>;
  runs: number;
  sizes: Awaited<ReturnType<typeof tarballSizes>>;
  loads: (LoadCase &
    Record<(typeof MEASURES)[number], ReturnType<typeof summarize>> & {
      cjsFilesLoaded: number;
      stderr: string[];
    })[];
  jest: JestOutcome[];
};

/** The figures as Markdown tables, ready for docs/packaging.md. */
function formatResult({ environment: env, runs, sizes, loads, jest }: Result): string {
  const ms = (s: ReturnType<typeof summarize>) => `${Math.round(s.median)} [${Math.round(s.p25)}–${Math.round(s.p75)}]`;
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const lines = [
    `Node ${env.node} · ${env.platform}, ${env.cpus} CPUs, load ${env.loadAverage} · ${env.date} · ${runs} runs per case`,
    '',
    '| case | app | process wall | process CPU | peers wall | library wall | library CPU | dist/cjs files loaded |',
    '| --- | --- | --: | --: | --: | --: | --: | --: |',
    ...loads.map(
      (l) => `| ${l.label} | ${l.app} | ${MEASURES.map((m) => ms(l[m])).join(' | ')} | ${l.cjsFilesLoaded} |`,
    ),
    '',
    'ms, median [interquartile range] of fresh `node` processes (min and max in the JSON file)',
    ...loads.flatMap((l) => l.stderr.map((text) => `stderr of ${l.app} ${l.mode}: ${text.split('\n')[0]}`)),
    '',
    '| tarball | packed | unpacked | files |',
    '| --- | --: | --: | --: |',
    ...(
      [
        ['ES + CommonJS (as published)', sizes.dual],
        ['ES only (without dist/cjs)', sizes.esOnly],
      ] as const
    ).map(([name, s]) => `| ${name} | ${kib(s.packedBytes)} | ${kib(s.unpackedBytes)} | ${s.files} |`),
    '',
    ...(jest.length > 0
      ? [
          '| Jest e2e of nest11-cjs (ts-jest, CommonJS runtime) | tests passed | failed | files failed to run | wall ms |',
          '| --- | --: | --: | --: | --: |',
        ]
      : []),
    ...jest.map((j) => `| ${j.variant} | ${j.passed} | ${j.failed} | ${j.filesFailedToRun} | ${j.wallMs} |`),
    ...jest.flatMap((j) => (j.firstError ? ['', `${j.variant}, first error:`, '```', j.firstError, '```'] : [])),
    '',
  ];
  return lines.join('\n');
}

await main();
