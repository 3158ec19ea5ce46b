/**
 * Node module hooks that run this repository's TypeScript directly (child processes spawned by tests, benchmarks,
 * the demo runner): `.ts` files are compiled by SWC with decorator metadata, `.js` specifiers that name a `.ts`
 * source are redirected to it, and the `@app/redis` alias resolves to the library's source barrel.
 * Registered by `register.mjs`; nothing here is part of the published library.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import swc from '@swc/core';
import { swcOptions } from './swc-options.mjs';

const repoRoot = new URL('../../', import.meta.url);
const aliases = new Map([['@app/redis', new URL('libs/redis/src/index.ts', repoRoot).href]]);
/**
 * The ioredis package `ioredis` imports resolve to. The ioredis 6 smoke run (`jest.ioredis6.config.js`) sets it to
 * the `ioredis-v6` alias, so the child processes its tests spawn run on the same major as the tests themselves.
 */
const ioredisPackage = process.env.NEST_REDIS_TEST_IOREDIS;

export async function resolve(specifier, context, nextResolve) {
  const alias = aliases.get(specifier);
  if (alias) return { url: alias, shortCircuit: true };
  if (specifier === 'ioredis' && ioredisPackage) return nextResolve(ioredisPackage, context);
  if (specifier.startsWith('@app/redis/')) {
    // Subpath entry points of the library: `@app/redis/health` → libs/redis/src/health/index.ts
    const entry = new URL(`libs/redis/src/${specifier.slice('@app/redis/'.length)}/index.ts`, repoRoot);
    return { url: entry.href, shortCircuit: true };
  }
  const fromTs = context.parentURL?.endsWith('.ts');
  if (fromTs && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
    const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const filename = fileURLToPath(url);
  const source = await readFile(filename, 'utf8');
  const { code } = await swc.transform(source, { ...swcOptions, filename, swcrc: false, configFile: false });
  return { format: 'module', source: code, shortCircuit: true };
}
