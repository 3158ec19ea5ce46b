import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisKeyspace, RedisModule, getRedisConnectionToken, type RedisClient } from '@app/redis';
import { RedisServerProcess, bootstrapTestingApp, eventually, uniqueKeyPrefix } from '@test/harness';

describe('RedisModule through Redis Sentinel (throwaway master + sentinel)', () => {
  let master: RedisServerProcess;
  let sentinel: RedisServerProcess;
  let app: INestApplicationContext;
  const prefix = uniqueKeyPrefix('sentinel');

  beforeAll(async () => {
    master = await RedisServerProcess.start({ args: ['--requirepass', 'sentinel-data-pw'] });
    sentinel = await RedisServerProcess.start({
      sentinelConfig: [
        `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
        'sentinel auth-pass mymaster sentinel-data-pw',
        'sentinel down-after-milliseconds mymaster 2000',
      ].join('\n'),
    });
    const probe = new Redis(sentinel.port, '127.0.0.1');
    await eventually(async () => ((await probe.call('SENTINEL', 'MASTERS')) as unknown[]).length === 1, 5_000);
    probe.disconnect();
    app = await bootstrapTestingApp([
      RedisModule.forRoot({
        sentinels: [`127.0.0.1:${sentinel.port}`],
        name: 'mymaster',
        password: 'sentinel-data-pw',
        keyPrefix: prefix,
      }),
    ]);
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await sentinel?.stop();
    await master?.stop();
  });

  it('asks the sentinel for the master and reads and writes through it', async () => {
    const client = app.get<RedisClient>(getRedisConnectionToken());
    const key = app.get(RedisKeyspace).key('via-sentinel');
    await client.set(key, 'ok');
    expect(await client.get(key)).toBe('ok');
    const direct = new Redis(master.port, '127.0.0.1', { password: 'sentinel-data-pw' });
    try {
      expect(await direct.get(key)).toBe('ok');
      expect(await client.info('server')).toContain(`tcp_port:${master.port}`);
    } finally {
      direct.disconnect();
    }
  });

  it('listens for failovers on the sentinel (failoverDetector), and app.close() leaves no connection there', async () => {
    const observer = new Redis(sentinel.port, '127.0.0.1');
    try {
      const subscribers = async () =>
        ((await observer.call('CLIENT', 'LIST')) as string).split('\n').filter((line) => / sub=[1-9]/.test(line))
          .length;
      const baseline = await subscribers();
      // Another app of the same options: the failover detector of each of its connections subscribes +switch-master.
      const other = await bootstrapTestingApp([
        RedisModule.forRoot({
          sentinels: [`127.0.0.1:${sentinel.port}`],
          name: 'mymaster',
          password: 'sentinel-data-pw',
        }),
      ]);
      expect(await eventually(async () => (await subscribers()) > baseline, 5_000)).toBe(true);
      await other.close();
      // QUIT alone left them open (and the process could not exit): each one is closed with the app.
      expect(await eventually(async () => (await subscribers()) === baseline, 5_000)).toBe(true);
    } finally {
      observer.disconnect();
    }
  });
});
