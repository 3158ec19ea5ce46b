import { parseArgs } from 'node:util';

/**
 * `npm run soak -- [--target demo|library] [--minutes N] [--restart-every M]`: a long run printing one row per
 * minute, not part of CI.
 *
 * - `--target demo` (the default, `demo-soak.ts`): the booking demo (2 booking-api + 2 booking-worker processes,
 *   PostgreSQL or PGlite) on a throwaway Redis Sentinel group under mixed HTTP load; every M minutes the Redis master
 *   is restarted or a Sentinel failover is forced, in turn.
 * - `--target library` (`library-soak.ts`): the library alone in one process against one throwaway `redis-server`,
 *   restarted every M minutes.
 *
 * Exits non-zero when an invariant fails.
 */
const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'demo' },
    minutes: { type: 'string', default: '20' },
    'restart-every': { type: 'string', default: '5' },
  },
});
const minutes = Number(values.minutes);
const restartEvery = Number(values['restart-every']);
if (!Number.isInteger(minutes) || minutes <= 0) throw new Error('--minutes must be a positive whole number');
if (!Number.isInteger(restartEvery) || restartEvery < 0) {
  throw new Error('--restart-every must be a whole number of minutes, 0 for never');
}
if (values.target === 'library') {
  const { runLibrarySoak } = await import('./library-soak.js');
  process.exitCode = await runLibrarySoak({ minutes, restartEvery });
} else if (values.target === 'demo') {
  const { runDemoSoak } = await import('./demo-soak.js');
  process.exitCode = await runDemoSoak({ minutes, restartEvery, write: (line) => process.stdout.write(`${line}\n`) });
} else {
  throw new Error(`--target must be demo or library, got "${values.target}"`);
}
