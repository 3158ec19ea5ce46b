import { ensureRedis } from '../src/dev-services/ensure-redis.js';

/** Jest global setup: every suite needs a real Redis on REDIS_URL; start a local one when none listens. */
export default async function globalSetup(): Promise<void> {
  await ensureRedis();
}
