import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Jest global setup: every suite needs a real Redis on REDIS_URL. Jest loads this file outside its ESM
 * pipeline, so the TypeScript check runs in a child process through the repository's loader.
 */
export default function globalSetup() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  // npm test writes Jest's JSON reports here for the closing summary line.
  mkdirSync(new URL('../.cache', import.meta.url), { recursive: true });
  const result = spawnSync(
    process.execPath,
    ['--import', './src/runtime/register.mjs', 'src/dev-services/ensure-services.ts'],
    { cwd: root, stdio: 'inherit' },
  );
  if (result.status !== 0) throw new Error('Required services are not reachable (see the message above).');
}
