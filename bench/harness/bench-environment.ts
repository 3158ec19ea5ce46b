import { arch, availableParallelism, loadavg, platform } from 'node:os';
import { Redis } from 'ioredis';
import type { BenchEnvironment } from './bench-report.interface.js';

/**
 * Describes where a run happens: Node version, the Redis server's version (from `INFO server`), the platform,
 * the load average and the start time. Opens its own short-lived connection so no suite's client is touched.
 *
 * @param redisUrl the Redis the suite will use
 */
export async function readBenchEnvironment(redisUrl: string): Promise<BenchEnvironment> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('server');
    return {
      date: new Date().toISOString(),
      node: process.version,
      redis: /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown',
      platform: `${platform()} ${arch()}`,
      cpus: availableParallelism(),
      loadAverage: Math.round(loadavg()[0] * 100) / 100,
    };
  } finally {
    client.disconnect();
  }
}
