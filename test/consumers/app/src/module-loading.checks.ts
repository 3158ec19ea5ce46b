import type { INestApplication } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CHECK_NAMES } from './check-names.js';
import type { ConsumerCheck } from './consumer-checks.js';
import { consumerRedisConfig, PACKAGE_NAME } from './consumer.config.js';

type ModuleExports = Record<string, unknown>;

/** Node's require(), resolving from the app's directory as the app's own code does. */
const requireFromApp = createRequire(join(process.cwd(), 'package.json'));

/**
 * Every code entry point the installed package declares (`@localcloudlab/nest-redis`, `…/health`, …), read from its
 * export map, so an entry point added later is checked without touching this file.
 */
function entryPoints(): string[] {
  const manifest = JSON.parse(readFileSync(requireFromApp.resolve(`${PACKAGE_NAME}/package.json`), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  return Object.keys(manifest.exports)
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => (subpath === '.' ? PACKAGE_NAME : `${PACKAGE_NAME}/${subpath.slice(2)}`));
}

function loadEach(load: (specifier: string) => ModuleExports): void {
  const specifiers = entryPoints();
  if (specifiers.length < 4) throw new Error(`only ${specifiers.length} entry points: ${specifiers.join(', ')}`);
  for (const specifier of specifiers) {
    const exported = load(specifier);
    const functions = Object.values(exported).filter((value) => typeof value === 'function');
    if (functions.length === 0) throw new Error(`${specifier} exported no class or function`);
  }
}

/** import() of a specifier held in a variable, so TypeScript keeps it a real dynamic import in CommonJS output. */
function importModule(specifier: string): Promise<ModuleExports> {
  return import(specifier) as Promise<ModuleExports>;
}

/**
 * How the package loads in this app under `node`: through require() and import(), and as one copy. Two copies (a
 * CommonJS and an ES build both loaded) would mean two RedisModule classes, two sets of DI tokens, and `instanceof`
 * failing across them; these checks fail if that ever happens.
 */
export const MODULE_LOADING_CHECKS: ConsumerCheck[] = [
  {
    name: CHECK_NAMES.requireEntryPoints,
    async run() {
      loadEach((specifier) => requireFromApp(specifier) as ModuleExports);
    },
  },
  {
    name: CHECK_NAMES.importEntryPoints,
    async run() {
      for (const specifier of entryPoints()) {
        const exported = await importModule(specifier);
        if (Object.keys(exported).length === 0) throw new Error(`${specifier} exported nothing`);
      }
    },
  },
  {
    name: CHECK_NAMES.oneCopyExports,
    async run() {
      for (const specifier of entryPoints()) {
        const required = requireFromApp(specifier) as ModuleExports;
        const imported = await importModule(specifier);
        const names = Object.keys(imported).filter((name) => name !== 'default' && name !== 'module.exports');
        const different = names.filter((name) => required[name] !== imported[name]);
        if (names.length === 0 || different.length > 0) {
          throw new Error(
            `${specifier}: ${different.length} of ${names.length} exports differ: ${different.join(', ')}`,
          );
        }
      }
    },
  },
  {
    name: CHECK_NAMES.oneCopyInjector,
    async run(app: INestApplication) {
      const required = requireFromApp(PACKAGE_NAME) as ModuleExports;
      const imported = await importModule(PACKAGE_NAME);
      const viaRequire = app.get(required.LockService as new () => unknown);
      const viaImport = app.get(imported.LockService as new () => unknown);
      if (!viaRequire || viaRequire !== viaImport) throw new Error('LockService resolved to two different instances');
      const options = app.get<{ keyPrefix?: string }>(imported.REDIS_MODULE_SETTINGS as string, { strict: false });
      if (options?.keyPrefix !== consumerRedisConfig().keyPrefix) {
        throw new Error(`REDIS_MODULE_SETTINGS holds keyPrefix ${String(options?.keyPrefix)}`);
      }
    },
  },
];
