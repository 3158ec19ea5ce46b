import { Redis } from 'ioredis';
import { RedisSentinelGroup } from '../harness/redis-sentinel-group.js';
import { describeFault, forceFailover } from './sentinel-faults.js';

/**
 * `node --import ./src/runtime/register.mjs test/soak/sentinel-failover-write-loss.ts [--failover-detector]`
 *
 * How many acknowledged writes a `SENTINEL FAILOVER` loses for a plain ioredis Sentinel client, with and without
 * ioredis's `failoverDetector`: one client appends to a list every 20 ms (one write at a time), the failover is forced
 * after 2 s, writing goes on for 15 s more; then acknowledged appends are compared with the list's length on the new
 * master. Explains the events the first demo soak lost (docs/RELIABILITY.md, Soak). Not part of CI.
 */
const failoverDetector = process.argv.includes('--failover-detector');
const group = await RedisSentinelGroup.start({ name: 'write-loss' });
const client = new Redis({
  sentinels: group.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
  name: group.name,
  failoverDetector,
});
client.on('error', () => undefined);
let acknowledged = 0;
let failed = 0;
let running = true;
const writer = (async () => {
  while (running) {
    try {
      await client.rpush('acknowledged', String(acknowledged + failed));
      acknowledged++;
    } catch {
      failed++;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
})();
try {
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const fault = describeFault(await forceFailover(group));
  await new Promise((resolve) => setTimeout(resolve, 15_000));
  running = false;
  await writer;
  const kept = await client.llen('acknowledged');
  process.stdout.write(
    `failoverDetector ${failoverDetector}: ${fault}; ${acknowledged} appends acknowledged, ${failed} failed, ` +
      `${kept} on the new master: ${acknowledged - kept} acknowledged appends lost\n`,
  );
} finally {
  running = false;
  client.disconnect();
  await group.stop();
}
