import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * How a consumer app outside the monorepo is made and driven: the consumer matrix (`consumers.e2e-spec.ts`) and the
 * packaging measurements (`bench/package-load.ts`) pack, copy and install the same way, so both use these steps.
 */

const run = promisify(execFile);

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The library's package folder (what `npm pack` packs). */
export const LIBRARY_DIR = join(REPO_ROOT, 'libs/redis');
/** The fixtures: one folder per consumer app (package.json, lockfile, tsconfig) plus the shared sources in `app/`. */
export const CONSUMERS_DIR = join(REPO_ROOT, 'test/consumers');
/** Building the library twice (ES + CommonJS) and a cold `npm ci` of a Nest app take minutes on a busy machine. */
export const SLOW_STEP_MS = 300_000;

/**
 * The environment of the commands run in a consumer: without the variables of this Jest run and of the `npm test`
 * around it (npm reads `npm_config_*` as settings, a nested Jest reads `JEST_WORKER_ID`).
 */
export function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(npm_|JEST_|NODE_OPTIONS$|NODE_ENV$)/i.test(name)),
  );
  return { ...env, ...extra };
}

/** Runs a command; a failure carries its output (npm, tsc and Jest explain themselves on stdout and stderr). */
export async function sh(file: string, args: string[], cwd: string, env = consumerEnv(), timeout = SLOW_STEP_MS) {
  try {
    return await run(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`\`${file} ${args.join(' ')}\` failed in ${cwd}:\n${stdout}\n${stderr}`, { cause: error });
  }
}

/** `npm <args>` without audit, funding notes or install scripts; the npm cache makes reruns offline. */
export function npm(args: string[], cwd: string) {
  return sh('npm', [...args, '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline'], cwd);
}

/** npm pack runs the package's prepack script: a clean ES + CommonJS build into libs/redis/dist. */
export async function packLibrary(workDir: string): Promise<string> {
  const packDir = join(workDir, 'pack');
  await mkdir(packDir);
  await sh('npm', ['pack', '--pack-destination', packDir], LIBRARY_DIR);
  const tarballs = (await readdir(packDir)).filter((file) => file.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack wrote ${tarballs.length} tarballs: ${tarballs.join(', ')}`);
  return join(packDir, tarballs[0]);
}

/**
 * Copies the fixture `dir` and, when asked, the shared app sources (`src`, and `test` for an app with a Jest run)
 * into `appDir`. CommonJS apps get extension-less relative imports, as `nest new` writes them (the Jest setup it
 * generates maps no `.js` suffix). Answers whether the app is CommonJS.
 */
export async function copyConsumerApp(dir: string, appDir: string, sourceFolders: string[]): Promise<boolean> {
  await cp(join(CONSUMERS_DIR, dir), appDir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(appDir, 'package.json'), 'utf8')) as { type?: string };
  const isCommonJs = manifest.type !== 'module';
  for (const folder of sourceFolders) {
    await mkdir(join(appDir, folder), { recursive: true });
    for (const file of await readdir(join(CONSUMERS_DIR, 'app', folder))) {
      const text = await readFile(join(CONSUMERS_DIR, 'app', folder, file), 'utf8');
      const source = isCommonJs ? text.replace(/(from '\.{1,2}\/[^']+)\.js'/g, "$1'") : text;
      await writeFile(join(appDir, folder, file), source);
    }
  }
  return isCommonJs;
}
