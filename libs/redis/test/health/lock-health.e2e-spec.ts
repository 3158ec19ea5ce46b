import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisModule, type RedisModuleOptions } from '@app/redis';
import { LockHealthIndicator } from '@app/redis/health';
import { REDIS_URL, RedisServerProcess, bootstrapTestingApp, eventually, uniqueKeyPrefix } from '@test/harness';

const password = 'lock-health-secret-pw';

async function bootHealth(options: RedisModuleOptions): Promise<INestApplicationContext> {
  return bootstrapTestingApp(
    [RedisModule.forRoot({ keyPrefix: uniqueKeyPrefix('lock-health'), ...options }), TerminusModule],
    [LockHealthIndicator],
  );
}

describe('LockHealthIndicator', () => {
  let app: INestApplicationContext | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('reports the main connection in single-node mode, without its address', async () => {
    app = await bootHealth({ url: REDIS_URL });
    expect(await app.get(LockHealthIndicator).isHealthy('lock')).toEqual({
      lock: { status: 'up', mode: 'single', connection: 'default', latencyMs: expect.any(Number) },
    });
  });

  describe('with 3 password-protected Redlock nodes', () => {
    let nodes: RedisServerProcess[];
    const urls = () => nodes.map((n) => `redis://:${password}@127.0.0.1:${n.port}`);
    const address = (n: RedisServerProcess) => `redis://127.0.0.1:${n.port}`;

    beforeAll(async () => {
      nodes = await Promise.all([0, 1, 2].map(() => RedisServerProcess.start({ args: ['--requirepass', password] })));
    });

    afterEach(async () => {
      await Promise.all(nodes.filter((n) => !n.running).map((n) => n.restart()));
      nodes.forEach((n) => n.resume());
    });

    afterAll(async () => {
      await Promise.all((nodes ?? []).map((n) => n.stop()));
    });

    it('is up with every node answering, each with its redacted address', async () => {
      app = await bootHealth({ url: REDIS_URL, lock: { nodes: urls() } });
      const result = await app.get(LockHealthIndicator).isHealthy('lock');
      const up = (n: RedisServerProcess) => ({ status: 'up', address: address(n), latencyMs: expect.any(Number) });
      expect(result).toEqual({
        lock: {
          status: 'up',
          mode: 'redlock',
          quorum: 2,
          answering: 3,
          nodes: { 'lock-node-0': up(nodes[0]), 'lock-node-1': up(nodes[1]), 'lock-node-2': up(nodes[2]) },
        },
      });
      expect(JSON.stringify(result)).not.toContain(password);
    });

    it('is degraded, naming the node that is down, while 1 of 3 is down: the quorum still answers', async () => {
      app = await bootHealth({ url: REDIS_URL, lock: { nodes: urls() } });
      const indicator = app.get(LockHealthIndicator);
      await nodes[1].stop({ keepDir: true });
      expect(await eventually(async () => (await indicator.isHealthy('lock')).lock.status === 'degraded', 5_000)).toBe(
        true,
      );
      const result = await indicator.isHealthy('lock');
      expect(result.lock).toEqual({
        status: 'degraded',
        mode: 'redlock',
        quorum: 2,
        answering: 2,
        message: '1 of 3 Redlock nodes down; the quorum of 2 answers',
        nodes: {
          'lock-node-0': { status: 'up', address: address(nodes[0]), latencyMs: expect.any(Number) },
          'lock-node-1': { status: 'down', address: address(nodes[1]), message: expect.stringMatching(/^not ready/) },
          'lock-node-2': { status: 'up', address: address(nodes[2]), latencyMs: expect.any(Number) },
        },
      });
      expect(JSON.stringify(result)).not.toContain(password);
    });

    it('is down below quorum (2 of 3 down), and up again by itself once they restart', async () => {
      app = await bootHealth({ url: REDIS_URL, lock: { nodes: urls() } });
      const indicator = app.get(LockHealthIndicator);
      await Promise.all([nodes[0].kill(), nodes[2].kill()]);
      expect(await eventually(async () => (await indicator.isHealthy('lock')).lock.status === 'down', 5_000)).toBe(
        true,
      );
      const down = await indicator.isHealthy('lock');
      expect(down.lock).toEqual(
        expect.objectContaining({
          status: 'down',
          answering: 1,
          message: 'only 1 of 3 Redlock nodes answer; quorum is 2',
        }),
      );
      expect(down.lock.nodes['lock-node-1'].status).toBe('up');
      expect(JSON.stringify(down)).not.toContain(password);
      await Promise.all([nodes[0].restart(), nodes[2].restart()]);
      expect(await eventually(async () => (await indicator.isHealthy('lock')).lock.status === 'up', 10_000)).toBe(true);
    });

    it('counts a paused node as down within the timeout instead of waiting for it', async () => {
      app = await bootHealth({ url: REDIS_URL, lock: { nodes: urls() } });
      const indicator = app.get(LockHealthIndicator);
      nodes[2].pause();
      const started = Date.now();
      const result = await indicator.isHealthy('lock', { timeout: 300 });
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(result.lock.status).toBe('degraded');
      expect(result.lock.nodes['lock-node-2']).toEqual({
        status: 'down',
        address: address(nodes[2]),
        message: 'no answer within 300 ms',
      });
    });
  });
});
