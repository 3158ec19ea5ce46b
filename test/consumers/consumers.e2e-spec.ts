import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { deleteKeysWithPrefix, uniqueKeyPrefix } from '../harness/key-prefix.js';
import { REDIS_URL } from '../harness/redis-url.js';
import { JEST_CHECKS, NODE_CHECKS } from './app/src/check-names.js';

const run = promisify(execFile);

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LIBRARY_DIR = join(REPO_ROOT, 'libs/redis');
const CONSUMERS_DIR = fileURLToPath(new URL('.', import.meta.url));
/** Building the library twice (ES + CommonJS) and a cold `npm ci` of a Nest app take minutes on a busy machine. */
const SLOW_STEP_MS = 300_000;

interface Consumer {
  /** Folder under test/consumers/ holding the app's package.json, lockfile and tsconfig. */
  dir: string;
  /** What kind of app it is, as the test names say it. */
  label: string;
  /** The app's npm script for its Jest e2e run, if it has one. */
  jestScript?: string;
}

/** The consumer matrix: each app is installed from its committed lockfile into a temp dir outside the monorepo. */
const CONSUMERS: Consumer[] = [
  { dir: 'nest12-esm', label: 'Nest 12 ES-module app' },
  { dir: 'nest12-cjs', label: 'Nest 12 CommonJS app', jestScript: 'test:e2e' },
  { dir: 'nest11-cjs', label: 'Nest 11 CommonJS app', jestScript: 'test:e2e' },
];

/**
 * The environment of the commands run in a consumer: without the variables of this Jest run and of the `npm test`
 * around it (npm reads `npm_config_*` as settings, a nested Jest reads `JEST_WORKER_ID`).
 */
function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(npm_|JEST_|NODE_OPTIONS$|NODE_ENV$)/i.test(name)),
  );
  return { ...env, ...extra };
}

/** Runs a command; a failure carries its output (npm, tsc and Jest explain themselves on stdout and stderr). */
async function sh(file: string, args: string[], cwd: string, env = consumerEnv()) {
  try {
    return await run(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: SLOW_STEP_MS });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`\`${file} ${args.join(' ')}\` failed in ${cwd}:\n${stdout}\n${stderr}`, { cause: error });
  }
}

/** `npm <args>` without audit, funding notes or install scripts; the npm cache makes reruns offline. */
function npm(args: string[], cwd: string) {
  return sh('npm', [...args, '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline'], cwd);
}

/**
 * Copies the fixture and the shared app sources into `appDir`. CommonJS apps get extension-less relative imports,
 * as `nest new` writes them (the Jest setup it generates maps no `.js` suffix).
 */
async function createApp(consumer: Consumer, appDir: string): Promise<boolean> {
  await cp(join(CONSUMERS_DIR, consumer.dir), appDir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(appDir, 'package.json'), 'utf8')) as { type?: string };
  const isCommonJs = manifest.type !== 'module';
  for (const folder of consumer.jestScript ? ['src', 'test'] : ['src']) {
    await mkdir(join(appDir, folder), { recursive: true });
    for (const file of await readdir(join(CONSUMERS_DIR, 'app', folder))) {
      const text = await readFile(join(CONSUMERS_DIR, 'app', folder, file), 'utf8');
      const source = isCommonJs ? text.replace(/(from '\.{1,2}\/[^']+)\.js'/g, "$1'") : text;
      await writeFile(join(appDir, folder, file), source);
    }
  }
  return isCommonJs;
}

/** `ok - <name>` / `not ok - <name> - <reason>` lines of the app's main.ts, by check name. */
function parseCheckLines(stdout: string): Map<string, string> {
  const results = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^(ok|not ok) - (.+?)(?: - (.*))?$/.exec(line);
    if (match) results.set(match[2], match[1] === 'ok' ? 'ok' : `not ok: ${match[3] ?? ''}`);
  }
  return results;
}

interface JestReport {
  testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[]; message: string }[];
}

interface ConsumerRun {
  /** Check name -> `ok` or the failure, from `node dist/main`. */
  node: Map<string, string>;
  /** Test title -> `ok` or the failure, from the app's Jest e2e run. */
  jest: Map<string, string>;
  /** What the runs printed, shown when a result is missing. */
  output: string;
}

let workDir: string;
const observer = new Redis(REDIS_URL, { lazyConnect: true });
const prefixes: string[] = [];
const runs = new Map<string, ConsumerRun>();

/** npm pack runs the package's prepack script: a clean ES + CommonJS build into libs/redis/dist. */
async function packLibrary(): Promise<string> {
  const packDir = join(workDir, 'pack');
  await mkdir(packDir);
  await sh('npm', ['pack', '--pack-destination', packDir], LIBRARY_DIR);
  const tarballs = (await readdir(packDir)).filter((file) => file.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack wrote ${tarballs.length} tarballs: ${tarballs.join(', ')}`);
  return join(packDir, tarballs[0]);
}

/** Output of a command that may fail: its failure is what the tests report, not an exception here. */
async function outputOf(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return run(file, args, { cwd, env, timeout: SLOW_STEP_MS, maxBuffer: 64 * 1024 * 1024 }).catch(
    (error: { stdout?: string; stderr?: string; message?: string }) => ({
      stdout: error.stdout ?? '',
      stderr: `${error.stderr ?? ''}\n${error.message ?? ''}`,
    }),
  );
}

/** Creates, installs, builds and runs one consumer app; its npm ci overlaps with the packing of the library. */
async function runConsumer(consumer: Consumer, packed: Promise<string>): Promise<ConsumerRun> {
  const appDir = join(workDir, consumer.dir);
  const isCommonJs = await createApp(consumer, appDir);
  // Exactly the committed lockfile, then the tarball on top (npm checks it against the peer ranges it declares).
  await npm(['ci'], appDir);
  await npm(['install', '--no-save', await packed], appDir);
  await sh(join(appDir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], appDir);

  const prefix = uniqueKeyPrefix(`consumer-${consumer.dir}`);
  prefixes.push(prefix);
  const main = await outputOf(
    process.execPath,
    [isCommonJs ? 'dist/main' : 'dist/main.js'],
    appDir,
    consumerEnv({ REDIS_URL, KEY_PREFIX: `${prefix}node:` }),
  );
  const result: ConsumerRun = {
    node: parseCheckLines(main.stdout),
    jest: new Map(),
    output: `${main.stdout}\n${main.stderr}`,
  };

  if (consumer.jestScript) {
    const report = join(workDir, `${consumer.dir}-jest.json`);
    const jest = await outputOf(
      'npm',
      ['run', consumer.jestScript, '--', '--json', `--outputFile=${report}`],
      appDir,
      consumerEnv({ REDIS_URL, KEY_PREFIX: `${prefix}jest:` }),
    );
    result.output += `\n${jest.stdout}\n${jest.stderr}`;
    const parsed = JSON.parse(await readFile(report, 'utf8').catch(() => '{"testResults":[]}')) as JestReport;
    for (const file of parsed.testResults) {
      for (const test of file.assertionResults) {
        result.jest.set(
          test.title,
          test.status === 'passed' ? 'ok' : `${test.status}: ${test.failureMessages.join('\n')}`,
        );
      }
      if (file.message) result.output += `\n${file.message}`;
    }
  }
  return result;
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'nest-redis-consumers-'));
  const packed = packLibrary();
  // A failed pack fails every consumer below with its message; this keeps it from going unhandled meanwhile.
  packed.catch(() => undefined);
  await Promise.all(
    CONSUMERS.map(async (consumer) => {
      const result = await runConsumer(consumer, packed).catch((error: unknown): ConsumerRun => ({
        node: new Map(),
        jest: new Map(),
        output: `setup failed: ${error instanceof Error ? error.message : String(error)}`,
      }));
      runs.set(consumer.dir, result);
    }),
  );
}, 4 * SLOW_STEP_MS);

afterAll(async () => {
  if (prefixes.length > 0) {
    await observer.connect();
    for (const prefix of prefixes) await deleteKeysWithPrefix(observer, prefix);
    await observer.quit();
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the export map of libs/redis/package.json', () => {
  it('gives every entry point the ES build for module-sync and import and the CommonJS build for require', async () => {
    const manifest = JSON.parse(await readFile(join(LIBRARY_DIR, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const entryPoints = Object.keys(manifest.exports).filter((subpath) => subpath !== './package.json');
    expect(entryPoints).toContain('.');
    for (const subpath of entryPoints) {
      // `.` -> dist/index, `./health` -> dist/health/index: the builds mirror src/ (src/health/index.ts).
      const dir = subpath === '.' ? '' : `${subpath.slice(2)}/`;
      const es = { types: `./dist/${dir}index.d.ts`, default: `./dist/${dir}index.js` };
      const commonJs = { types: `./dist/cjs/${dir}index.d.ts`, default: `./dist/cjs/${dir}index.js` };
      // Key order matters: Node takes the first condition that applies, so module-sync must come before require.
      expect({ subpath, conditions: Object.keys(manifest.exports[subpath] as object) }).toEqual({
        subpath,
        conditions: ['module-sync', 'import', 'require'],
      });
      expect(manifest.exports[subpath]).toEqual({ 'module-sync': es, import: es, require: commonJs });
    }
  });
});

describe.each(CONSUMERS)('$label ($dir), installed from the packed tarball', (consumer) => {
  const resultOf = (source: 'node' | 'jest', name: string) => {
    const consumerRun = runs.get(consumer.dir);
    return consumerRun?.[source].get(name) ?? `no result; output:\n${consumerRun?.output ?? 'none'}`;
  };

  it.each(NODE_CHECKS)(`${consumer.dir} under node (tsc output, as \`nest start\` runs it): %s`, (name) => {
    expect({ check: name, result: resultOf('node', name) }).toEqual({ check: name, result: 'ok' });
  });

  it(`${consumer.dir} under node reports exactly the expected checks`, () => {
    expect([...(runs.get(consumer.dir)?.node.keys() ?? [])].sort()).toEqual([...NODE_CHECKS].sort());
  });

  if (consumer.jestScript) {
    it.each(JEST_CHECKS)(`${consumer.dir} under its Jest e2e setup (npm run ${consumer.jestScript}): %s`, (name) => {
      expect({ check: name, result: resultOf('jest', name) }).toEqual({ check: name, result: 'ok' });
    });
  }
});
