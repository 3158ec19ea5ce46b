import { ensurePostgres } from './ensure-postgres.js';
import { ensureRedis } from './ensure-redis.js';

/**
 * `node --import ./src/runtime/register.mjs src/dev-services/ensure-services.ts`: makes sure the services the
 * tests need (Redis, and PostgreSQL for the demo's tests) are reachable, starting local ones when possible. Run by
 * Jest's global setup, so `npm test` and a single `jest` file work on a fresh machine.
 */
try {
  await ensureRedis();
  await ensurePostgres();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
