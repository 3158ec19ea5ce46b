import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { RedisModule, type RedisModuleOptions } from '@app/redis';
import { RedisHealthIndicator } from '@app/redis/health';
import {
  REDIS_URL,
  RedisClusterProcesses,
  RedisServerProcess,
  bootstrapTestingApp,
  eventually,
  uniqueKeyPrefix,
} from '@test/harness';

async function bootHealth(options: RedisModuleOptions): Promise<INestApplicationContext> {
  return bootstrapTestingApp(
    [RedisModule.forRoot({ keyPrefix: uniqueKeyPrefix('health'), ...options }), TerminusModule],
    [RedisHealthIndicator],
  );
}

describe('RedisHealthIndicator', () => {
  let app: INestApplicationContext | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('is up with latency, role and memory against the main Redis', async () => {
    app = await bootHealth({ url: REDIS_URL });
    const result = await app.get(RedisHealthIndicator).isHealthy('redis');
    expect(result).toEqual({
      redis: {
        status: 'up',
        latencyMs: expect.any(Number),
        role: 'master',
        usedMemory: expect.any(Number),
        maxMemory: expect.any(Number),
      },
    });
    expect(result.redis.usedMemory).toBeGreaterThan(0);
  });

  it('is down with the latency reason when the round trip is over maxLatencyMs', async () => {
    app = await bootHealth({ url: REDIS_URL });
    const result = await app.get(RedisHealthIndicator).isHealthy('redis', { maxLatencyMs: 0 });
    expect(result.redis.status).toBe('down');
    expect(result.redis.message).toMatch(/^latency [\d.]+ ms is over maxLatencyMs 0$/);
  });

  it('reports a connection that is not configured', async () => {
    app = await bootHealth({ url: REDIS_URL });
    const result = await app.get(RedisHealthIndicator).isHealthy('redis', { connection: 'nope' });
    expect(result).toEqual({ redis: { status: 'down', message: 'Redis connection "nope" is not configured' } });
  });

  describe('against a throwaway node', () => {
    let node: RedisServerProcess;

    beforeAll(async () => {
      node = await RedisServerProcess.start({ args: ['--requirepass', 'health-secret-pw'] });
    });

    afterAll(async () => {
      await node?.stop();
    });

    it('is down with the memory reason when used memory is over maxMemoryRatio of a low maxmemory', async () => {
      const admin = new Redis(node.port, '127.0.0.1', { password: 'health-secret-pw' });
      try {
        const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
        await admin.config('SET', 'maxmemory', String(Math.ceil(used * 1.05)));
        app = await bootHealth({ url: `redis://:health-secret-pw@127.0.0.1:${node.port}` });
        const result = await app.get(RedisHealthIndicator).isHealthy('redis', { maxMemoryRatio: 0.5 });
        expect(result.redis.status).toBe('down');
        expect(result.redis.message).toMatch(/^memory [\d.]+% of maxmemory is over maxMemoryRatio 0\.5$/);
        expect(JSON.stringify(result)).not.toContain('health-secret-pw');
      } finally {
        await admin.config('SET', 'maxmemory', '0');
        admin.disconnect();
      }
    });

    it('is down naming the timeout while the node is paused, and bounded in time', async () => {
      app = await bootHealth({ url: `redis://:health-secret-pw@127.0.0.1:${node.port}` });
      node.pause();
      try {
        const started = Date.now();
        const result = await app.get(RedisHealthIndicator).isHealthy('redis', { timeout: 300 });
        expect(result).toEqual({ redis: { status: 'down', message: 'Redis did not answer within 300 ms' } });
        expect(Date.now() - started).toBeLessThan(2_000);
      } finally {
        node.resume();
      }
    });

    it('is down at once while the node is stopped, and up again by itself after it restarts', async () => {
      app = await bootHealth({ url: `redis://:health-secret-pw@127.0.0.1:${node.port}` });
      const indicator = app.get(RedisHealthIndicator);
      await node.stop({ keepDir: true });
      expect(await eventually(async () => (await indicator.isHealthy('redis')).redis.status === 'down', 5_000)).toBe(
        true,
      );
      const down = await indicator.isHealthy('redis');
      expect(down.redis.message).toMatch(
        /^Redis connection "default" is not ready \((connecting|reconnecting|connect|close)\)$/,
      );
      expect(JSON.stringify(down)).not.toContain('health-secret-pw');
      await node.restart();
      expect(await eventually(async () => (await indicator.isHealthy('redis')).redis.status === 'up', 10_000)).toBe(
        true,
      );
    });
  });

  describe('with a Cluster', () => {
    let cluster: RedisClusterProcesses;

    beforeAll(async () => {
      cluster = await RedisClusterProcesses.start(3);
    }, 60_000);

    afterAll(async () => {
      await cluster?.stop();
    });

    it('is up while cluster_state is ok, and down once a master is lost and the state turns fail', async () => {
      app = await bootHealth({ cluster: { nodes: cluster.addresses } });
      const indicator = app.get(RedisHealthIndicator);
      expect(await indicator.isHealthy('redis')).toEqual({
        redis: expect.objectContaining({ status: 'up', role: 'cluster', clusterState: 'ok' }),
      });
      await cluster.nodes[2].kill();
      const failed = await eventually(
        async () => {
          const result = await indicator.isHealthy('redis', { timeout: 500 });
          return result.redis.status === 'down';
        },
        15_000,
        250,
      );
      expect(failed).toBe(true);
    }, 30_000);
  });
});
