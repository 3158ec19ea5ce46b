import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, type INestApplicationContext, type INestMicroservice } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { RedisTransportHealthIndicator } from '@app/redis/health';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { RedisServerProcess, bootstrapTestingApp, eventually, uniqueKeyPrefix } from '@test/harness';
import { Recorder, startMicroservice } from '../transport/fixtures/transport-fixtures.js';

const password = 'transport-health-secret-pw';
const group = 'health-spec';

/** Handlers of the slow stream wait here until a test opens it. */
let gate: Promise<void> = Promise.resolve();

@Controller()
class HealthFixtureController {
  @EventPattern('th.poison')
  onPoison(data: { i: number }): void {
    throw new Error(`cannot handle entry ${data.i}`);
  }

  @EventPattern('th.slow')
  async onSlow(data: { i: number }): Promise<number> {
    await gate;
    return data.i;
  }
}

describe('RedisTransportHealthIndicator', () => {
  let node: RedisServerProcess;
  let health: INestApplicationContext;
  let indicator: RedisTransportHealthIndicator;
  let url: string;
  let keyPrefix: string;

  beforeAll(async () => {
    node = await RedisServerProcess.start({ args: ['--requirepass', password] });
    url = `redis://:${password}@127.0.0.1:${node.port}`;
    keyPrefix = uniqueKeyPrefix('transport-health');
    health = await bootstrapTestingApp([TerminusModule], [RedisTransportHealthIndicator]);
    indicator = health.get(RedisTransportHealthIndicator);
  });

  afterAll(async () => {
    await health?.close();
    await node?.stop();
  });

  it('is down while the server is not listening', async () => {
    const server = new RedisTransportServer({ url, keyPrefix, mode: 'streams', streams: { group } });
    expect(await indicator.isHealthy('transport', server)).toEqual({
      transport: { status: 'down', mode: 'streams', message: 'the transport server is not listening' },
    });
  });

  it('connects a client that never connected, and is up once it is', async () => {
    const client = new RedisTransportClient({ url, keyPrefix, mode: 'streams' });
    try {
      expect(await indicator.isHealthy('transport', client)).toEqual({
        transport: { status: 'up', mode: 'streams', connection: 'connected' },
      });
    } finally {
      await client.close();
    }
  });

  describe('with a streams server listening', () => {
    let server: RedisTransportServer;
    let app: INestMicroservice;
    let client: RedisTransportClient;
    let openGate: () => void = () => undefined;

    const emit = (pattern: string, data: unknown) => lastValueFrom(client.emit<string>(pattern, data));
    const stream = (pattern: string) => `${keyPrefix}stream:{${pattern}}`;
    const idle = (pattern: string) => ({
      stream: stream(pattern),
      group,
      deadLetterStream: `${stream(pattern)}:dead`,
      pending: 0,
      deadLetters: 0,
      lag: 0,
    });

    beforeAll(async () => {
      server = new RedisTransportServer({
        url,
        keyPrefix,
        mode: 'streams',
        streams: { group, maxAttempts: 1, concurrency: { 'th.slow': 1, '*': 4 } },
      });
      app = await startMicroservice(server, HealthFixtureController, new Recorder());
      client = new RedisTransportClient({ url, keyPrefix, mode: 'streams' });
      await client.connect();
    });

    afterAll(async () => {
      openGate();
      await client?.close();
      await app?.close();
    });

    it('is up with pending entries, dead letters and lag of each stream for its group', async () => {
      const result = await indicator.isHealthy('transport', server, { maxPending: 0, maxDeadLetters: 0, maxLag: 0 });
      expect(result).toEqual({
        transport: {
          status: 'up',
          mode: 'streams',
          connection: 'connected',
          streams: { 'th.poison': idle('th.poison'), 'th.slow': idle('th.slow') },
        },
      });
    });

    it('is down when a dead-letter stream is over maxDeadLetters, naming the stream and the counts', async () => {
      for (let i = 0; i < 3; i++) await emit('th.poison', { i });
      const dead = async () => (await server.streamsInfo()).find((s) => s.pattern === 'th.poison')?.deadLetters;
      expect(await eventually(async () => (await dead()) === 3, 5_000)).toBe(true);

      const result = await indicator.isHealthy('transport', server, { maxDeadLetters: 2 });
      expect(result.transport).toEqual(
        expect.objectContaining({
          status: 'down',
          message: `3 dead letters of "th.poison" (group ${group}) are over maxDeadLetters 2`,
        }),
      );
      expect(result.transport.streams['th.poison']).toEqual({ ...idle('th.poison'), deadLetters: 3 });
      expect((await indicator.isHealthy('transport', server, { maxDeadLetters: 3 })).transport.status).toBe('up');
      expect(JSON.stringify(result)).not.toContain(password);
    });

    it('judges dead letters by those added within deadLetterWindow: a burst degrades or downs it for one window only', async () => {
      const fresh = new RedisTransportHealthIndicator(health.get(HealthIndicatorService));
      const deadKey = `${stream('th.poison')}:dead`;
      const total = async () => (await server.streamsInfo()).find((s) => s.pattern === 'th.poison')!.deadLetters;
      const window = { warnRecentDeadLetters: 2, maxRecentDeadLetters: 5, deadLetterWindow: 1_500 };
      const recent = async () => {
        const { transport } = await fresh.isHealthy('transport', server, window);
        return { status: transport.status, recent: transport.streams['th.poison'].recentDeadLetters };
      };
      // The first probe of a process is the baseline: the dead letters already there are not "recent".
      const before = await total();
      expect(await recent()).toEqual({ status: 'up', recent: 0 });

      for (let i = 0; i < 3; i++) await emit('th.poison', { i });
      expect(await eventually(async () => (await total()) === before + 3, 5_000)).toBe(true);
      const degraded = await fresh.isHealthy('transport', server, window);
      expect(degraded.transport).toEqual(
        expect.objectContaining({
          status: 'degraded',
          message: `3 entries of "th.poison" (group ${group}) dead-lettered in the last 2 s, over warnRecentDeadLetters 2`,
        }),
      );

      for (let i = 0; i < 3; i++) await emit('th.poison', { i });
      expect(await eventually(async () => (await total()) === before + 6, 5_000)).toBe(true);
      expect(await recent()).toEqual({ status: 'down', recent: 6 });

      // Past the window with no new dead letters, it is up again although the dead-letter stream still holds them.
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      expect(await recent()).toEqual({ status: 'up', recent: 0 });
      expect(await total()).toBe(before + 6);
      // An operator trimming the stream starts the count over rather than going negative.
      const admin = new Redis(url);
      await admin.del(deadKey);
      await admin.quit();
      expect(await recent()).toEqual({ status: 'up', recent: 0 });
    });

    it('is degraded over warnLag and down over maxPending while a slow handler holds the backlog', async () => {
      gate = new Promise((resolve) => (openGate = resolve));
      for (let i = 0; i < 5; i++) await emit('th.slow', { i });
      const slow = async () => (await server.streamsInfo()).find((s) => s.pattern === 'th.slow');
      expect(await eventually(async () => (await slow())?.pending === 1, 5_000)).toBe(true);
      expect(await slow()).toEqual(expect.objectContaining({ pending: 1, lag: 4 }));

      const warned = await indicator.isHealthy('transport', server, { warnLag: 2 });
      expect(warned.transport).toEqual(
        expect.objectContaining({
          status: 'degraded',
          message: `lag 4 of "th.slow" (group ${group}) is over warnLag 2`,
        }),
      );
      const over = await indicator.isHealthy('transport', server, { maxPending: 0, warnLag: 2 });
      expect(over.transport).toEqual(
        expect.objectContaining({
          status: 'down',
          message: `1 pending entries on "th.slow" (group ${group}) are over maxPending 0`,
        }),
      );
      openGate();
      expect(await eventually(async () => (await slow())?.pending === 0 && (await slow())?.lag === 0, 5_000)).toBe(
        true,
      );
    });

    it('is down at once while Redis is stopped, never showing the password, and up again after it restarts', async () => {
      await node.stop({ keepDir: true });
      try {
        expect(
          await eventually(
            async () => (await indicator.isHealthy('transport', server)).transport.status === 'down',
            5_000,
          ),
        ).toBe(true);
        const started = Date.now();
        const down = await indicator.isHealthy('transport', server, { timeout: 300 });
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(down.transport).toEqual({
          status: 'down',
          mode: 'streams',
          message: expect.stringMatching(/^the transport is (reconnecting|disconnected)$|not ready/),
        });
        expect(JSON.stringify(down)).not.toContain(password);
      } finally {
        await node.restart();
      }
      expect(
        await eventually(
          async () => (await indicator.isHealthy('transport', server)).transport.status === 'up',
          15_000,
        ),
      ).toBe(true);
    }, 30_000);
  });
});
