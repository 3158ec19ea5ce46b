import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { REDIS_URL, uniqueKeyPrefix, useRedisClient } from '@test/harness';

const run = promisify(execFile);

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const LIBRARY_DIR = join(REPO_ROOT, 'libs/redis');
const TSC = join(REPO_ROOT, 'node_modules/.bin/tsc');
const PACKAGE_NAME = '@localcloudlab/nest-redis';
/** The runtime packages a consumer installs next to ours, pinned to what the monorepo itself runs. */
const CONSUMER_DEPENDENCIES = ['@nestjs/common', '@nestjs/core', 'ioredis', 'rxjs', 'reflect-metadata'];

/** Building, packing and a cold `npm install` of Nest can take well over a minute on a slow cache. */
const SLOW_STEP_MS = 300_000;

const prefix = uniqueKeyPrefix('pack-and-install');
const greetingKey = `${prefix}greeting`;
const observer = useRedisClient({ deleteKeysUnder: prefix });
const greeting = `hello from the tarball ${randomUUID()}`;

/**
 * The consumer app, written the way the README tells users to: `forRoot` with a keyPrefix, a service taking the
 * client through `@InjectRedis()`. It prints what it read as one JSON line and closes, so its exit also proves the
 * module releases its connections at shutdown.
 */
const CONSUMER_SOURCES: Record<string, string> = {
  'src/greeting.service.ts': `
import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { InjectRedis, RedisKeyspace } from '${PACKAGE_NAME}';

@Injectable()
export class GreetingService {
  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly keyspace: RedisKeyspace,
  ) {}

  read(): Promise<string | null> {
    return this.redis.get(this.keyspace.key('greeting'));
  }
}
`,
  'src/app.module.ts': `
import { Module } from '@nestjs/common';
import { RedisModule } from '${PACKAGE_NAME}';
import { GreetingService } from './greeting.service.js';

@Module({
  imports: [RedisModule.forRoot({ url: process.env.REDIS_URL, keyPrefix: process.env.KEY_PREFIX, connectTimeout: 5_000 })],
  providers: [GreetingService],
})
export class AppModule {}
`,
  'src/main.ts': `
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { GreetingService } from './greeting.service.js';

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const greeting = await app.get(GreetingService).read();
process.stdout.write(JSON.stringify({ greeting }) + '\\n');
await app.close();
`,
};

/** Compiler settings a typical Nest consumer uses; `skipLibCheck: false` so our published .d.ts are checked too. */
const CONSUMER_TSCONFIG = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'ES2022',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: false,
    types: ['node'],
    rootDir: 'src',
    outDir: 'dist',
  },
  include: ['src'],
};

interface PackedManifest {
  name: string;
  type?: string;
  main?: string;
  types?: string;
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** Runs a command and, when it fails, reports its output (npm and tsc explain themselves on stdout). */
async function sh(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  try {
    return await run(file, args, { cwd, env, maxBuffer: 32 * 1024 * 1024, timeout: SLOW_STEP_MS });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`\`${file} ${args.join(' ')}\` failed in ${cwd}:\n${stdout}\n${stderr}`, { cause: error });
  }
}

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

describe(`${PACKAGE_NAME} as a published package`, () => {
  let workDir: string;
  let tarball: string;
  let packedFiles: string[];
  let manifest: PackedManifest;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'nest-redis-pack-'));
    const packDir = join(workDir, 'pack');
    await mkdir(packDir);

    // npm pack runs the package's prepack script: a clean ES + CommonJS build.
    await sh('npm', ['pack', '--pack-destination', packDir], LIBRARY_DIR);
    const [name, ...others] = (await readdir(packDir)).filter((file) => file.endsWith('.tgz'));
    expect(others).toEqual([]);
    tarball = join(packDir, name);

    // Read the tarball itself rather than `npm pack --json`, whose output the prepack script also writes to.
    const { stdout } = await sh('tar', ['-tzf', tarball], workDir);
    packedFiles = stdout
      .split('\n')
      .filter(Boolean)
      .map((entry) => entry.replace(/^package\//, ''));
    manifest = JSON.parse((await sh('tar', ['-xzOf', tarball, 'package/package.json'], workDir)).stdout);
  }, SLOW_STEP_MS);

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('ships compiled JS, declarations, maps, the README, the CHANGELOG and peer dependencies, and no sources or tests', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'CHANGELOG.md',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/redis.module.js',
      ]),
    );
    const unexpected = packedFiles.filter(
      (file) =>
        !['package.json', 'README.md', 'CHANGELOG.md', 'dist/cjs/package.json'].includes(file) &&
        !/^dist\/.+\.(js|d\.ts|js\.map)$/.test(file),
    );
    expect(unexpected).toEqual([]);
    expect(packedFiles.filter((file) => /(^|\/)(test|tests|__tests__)\/|\.(spec|e2e-spec)\./.test(file))).toEqual([]);
    expect(packedFiles.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);

    // Each entry point: the ES build for `import` and, on Node >= 20.19, for `require` too (`module-sync`); the
    // CommonJS build only where require() cannot load ES modules (test/consumers proves both).
    const entry = (dir: string) => ({
      'module-sync': { types: `./dist/${dir}index.d.ts`, default: `./dist/${dir}index.js` },
      import: { types: `./dist/${dir}index.d.ts`, default: `./dist/${dir}index.js` },
      require: { types: `./dist/cjs/${dir}index.d.ts`, default: `./dist/cjs/${dir}index.js` },
    });
    expect(manifest).toMatchObject({
      name: PACKAGE_NAME,
      type: 'module',
      main: './dist/cjs/index.js',
      types: './dist/cjs/index.d.ts',
      exports: {
        '.': entry(''),
        './health': entry('health/'),
        './metrics': entry('metrics/'),
        './transport': entry('transport/'),
        './schedule': entry('schedule/'),
        './leader': entry('leader/'),
        './semaphore': entry('semaphore/'),
        './rate-limit': entry('rate-limit/'),
        './tracing': entry('tracing/'),
      },
    });
    expect(packedFiles).toEqual(expect.arrayContaining(['dist/cjs/package.json', 'dist/cjs/index.js']));
    expect(manifest.peerDependencies).toEqual({
      '@nestjs/cache-manager': '^3.0.0 || ^12.0.0',
      '@nestjs/common': '^11.1.0 || ^12.0.0',
      '@nestjs/core': '^11.1.0 || ^12.0.0',
      '@nestjs/microservices': '^11.1.0 || ^12.0.0',
      '@nestjs/schedule': '^6.0.0 || ^12.0.0',
      '@nestjs/terminus': '^11.0.0 || ^12.0.0',
      '@opentelemetry/api': '^1.9.0',
      'cache-manager': '^7.0.0',
      cron: '^4.0.0',
      ioredis: '^5.4 || ^6',
      keyv: '^5.0.0',
      'prom-client': '^15.0.0',
      'reflect-metadata': '^0.2.0',
      rxjs: '^7.1.0',
    });
    // Capabilities with their own entry point (`/health`, `/metrics`, `/transport`, `/tracing`) or loaded on demand (`CACHE_MANAGER`) keep their Nest package optional: the consumer app below
    // installs none of them and must still load the main entry point.
    expect(manifest.peerDependenciesMeta).toEqual({
      '@nestjs/cache-manager': { optional: true },
      '@nestjs/microservices': { optional: true },
      '@nestjs/schedule': { optional: true },
      '@nestjs/terminus': { optional: true },
      '@opentelemetry/api': { optional: true },
      'cache-manager': { optional: true },
      cron: { optional: true },
      keyv: { optional: true },
      'prom-client': { optional: true },
    });
    expect(manifest.dependencies).toBeUndefined();
  });

  it(
    'installs into a fresh Nest app outside the monorepo, type-checks with the published .d.ts and reads Redis through @InjectRedis()',
    async () => {
      const rootManifest = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
        devDependencies: Record<string, string>;
      };
      const pinned = Object.fromEntries(CONSUMER_DEPENDENCIES.map((name) => [name, rootManifest.dependencies[name]]));
      expect(Object.values(pinned).every(Boolean)).toBe(true);

      const appDir = join(workDir, 'app');
      await writeFiles(appDir, {
        ...CONSUMER_SOURCES,
        'tsconfig.json': JSON.stringify(CONSUMER_TSCONFIG, null, 2),
        'package.json': JSON.stringify(
          {
            name: 'nest-redis-consumer',
            private: true,
            type: 'module',
            dependencies: { [PACKAGE_NAME]: `file:${tarball}`, ...pinned },
            devDependencies: { '@types/node': rootManifest.devDependencies['@types/node'] },
          },
          null,
          2,
        ),
      });

      await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], appDir);
      await sh(TSC, ['-p', appDir], appDir);
      await observer.set(greetingKey, greeting);

      const { stdout } = await sh(process.execPath, ['dist/main.js'], appDir, {
        ...process.env,
        REDIS_URL,
        KEY_PREFIX: prefix,
      });

      expect(stdout.trim().split('\n')).toEqual([JSON.stringify({ greeting })]);
    },
    SLOW_STEP_MS,
  );
});
