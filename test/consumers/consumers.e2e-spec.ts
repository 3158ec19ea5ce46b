import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { deleteKeysWithPrefix, uniqueKeyPrefix } from '../harness/key-prefix.js';
import { REDIS_URL } from '../harness/redis-url.js';
import { JEST_CHECKS, NODE_CHECKS } from './app/src/check-names.js';
import {
  consumerEnv,
  copyConsumerApp,
  LIBRARY_DIR,
  npm,
  packLibrary,
  sh,
  SLOW_STEP_MS,
} from './support/consumer-apps.js';

const run = promisify(execFile);

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
  const isCommonJs = await copyConsumerApp(consumer.dir, appDir, consumer.jestScript ? ['src', 'test'] : ['src']);
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
  const packed = packLibrary(workDir);
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
