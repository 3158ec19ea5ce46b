import type { BenchSuite } from '../harness/bench-suite.interface.js';

/**
 * Every suite `npm run bench -- <name>` can run. Suites are imported only when run, so one suite's dependencies
 * never slow down or break another. Add a suite with one line.
 */
export const benchSuites: Readonly<Record<string, () => Promise<BenchSuite>>> = {
  'redis-baseline': () => import('./redis-baseline.js').then((m) => m.redisBaselineSuite),
  cache: () => import('./cache.js').then((m) => m.cacheSuite),
  lock: () => import('./lock.js').then((m) => m.lockSuite),
  transport: () => import('./transport.js').then((m) => m.transportSuite),
  http: () => import('./http.js').then((m) => m.httpSuite),
  ratelimit: () => import('./ratelimit.js').then((m) => m.rateLimitSuite),
};
