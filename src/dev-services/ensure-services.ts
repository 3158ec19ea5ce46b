import { ensureRedis } from './ensure-redis.js';

/**
 * `node --import ./src/runtime/register.mjs src/dev-services/ensure-services.ts`: makes sure the services the
 * tests and the demo need are reachable, starting local ones when possible. Used by Jest's global setup, the
 * demo runner and CI.
 */
try {
  await ensureRedis();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
