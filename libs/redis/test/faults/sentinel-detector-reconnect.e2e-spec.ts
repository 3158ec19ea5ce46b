import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { RedisModule, getRedisConnectionToken, type RedisClient } from '@app/redis';
import { RedisSentinelGroup, TcpProxy, bootstrapTestingApp, eventually, uniqueKeyPrefix } from '@test/harness';

/**
 * ioredis' failover detector closes the connection's connector when the sentinels announce +switch-master. When that
 * lands while the connection is reconnecting (asking a sentinel for the master after the old one died), ioredis
 * fails the whole attempt with "Connection is closed." and ends the client for good: it never reconnects. The
 * sentinels here answer 300 ms late (a TCP proxy), so almost every moment of the reconnect loop is spent asking them,
 * which is where the announcement lands.
 */
describe('Sentinel failover announced while the connection is reconnecting', () => {
  let group: RedisSentinelGroup;
  let proxies: TcpProxy[] = [];
  let app: INestApplicationContext | undefined;

  beforeAll(async () => {
    group = await RedisSentinelGroup.start({ password: 'detector-pw' });
    proxies = await Promise.all(group.sentinels.map((s) => TcpProxy.start({ port: s.port })));
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await Promise.all(proxies.map((p) => p.close()));
    await group?.stop();
  });

  it('reconnects to the promoted replica instead of ending the client', async () => {
    app = await bootstrapTestingApp([
      RedisModule.forRoot({
        sentinels: proxies.map((p) => `${p.host}:${p.port}`),
        name: group.name,
        password: 'detector-pw',
        keyPrefix: uniqueKeyPrefix('detector-reconnect'),
        // Only the proxied sentinels (ioredis would otherwise add the ones the sentinels list, bypassing the delay),
        // and a short retry delay so the reconnect loop is nearly all sentinel questions.
        redisOptions: { updateSentinels: false, retryStrategy: () => 10 },
      }),
    ]);
    const client = app.get<RedisClient>(getRedisConnectionToken());
    let ended = false;
    client.on('end', () => (ended = true));
    await client.set('before', '1');

    for (const proxy of proxies) proxy.delay(300);
    const oldMaster = group.master.port;
    await group.master.kill();
    await eventually(async () => (await group.currentMasterPort()) !== oldMaster, 30_000);

    const reconnected = await eventually(() => client.status === 'ready' || ended, 20_000);
    expect({ reconnected, ended, status: client.status }).toEqual({ reconnected: true, ended: false, status: 'ready' });
    expect(await client.set('after', '1')).toBe('OK');
    expect(/tcp_port:(\d+)/.exec(await client.info('server'))?.[1]).toBe(String(group.replica.port));
  }, 90_000);
});
