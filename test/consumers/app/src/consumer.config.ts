/** The package under test, as the consumer apps import it. */
export const PACKAGE_NAME = '@localcloudlab/nest-redis';

/**
 * Redis URL and key prefix, given by the test that runs the consumer (a unique prefix per run, so runs never see
 * each other's keys on the shared Redis).
 */
export function consumerRedisConfig(): { url: string; keyPrefix: string } {
  const keyPrefix = process.env.KEY_PREFIX;
  if (!keyPrefix) throw new Error('KEY_PREFIX is required: the consumer app writes only under its own prefix.');
  return { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix };
}

/** Injection token of the app's transport client. */
export const EVENTS_CLIENT = 'EVENTS_CLIENT';
