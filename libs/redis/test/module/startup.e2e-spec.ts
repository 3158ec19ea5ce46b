import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createServer, type Server, type Socket } from 'node:net';
import {
  RedisConnectionError,
  RedisModule,
  RedisOptionsError,
  getRedisConnectionToken,
  type RedisClient,
} from '@app/redis';
import {
  LogCapture,
  REDIS_URL,
  RedisServerProcess,
  eventually,
  freePort,
  silentLogger,
  bootRedisModule,
  startupError,
} from '@test/harness';

describe('RedisModule startup', () => {
  let app: INestApplicationContext | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  describe('invalid options', () => {
    it('forRoot fails at startup naming the offending field', async () => {
      const error = await startupError(() => bootRedisModule({ url: REDIS_URL, connectTimeout: -1 }));
      expect(error).toBeInstanceOf(RedisOptionsError);
      expect((error as RedisOptionsError).field).toBe('connectTimeout');
      expect(error.message).toContain('"connectTimeout"');
    });

    it('forRootAsync options are validated the same way', async () => {
      const error = await startupError(async () => {
        const moduleRef = await Test.createTestingModule({
          imports: [
            RedisModule.forRootAsync({ useFactory: async () => ({ url: REDIS_URL, keyPrefix: 'bad prefix*' }) }),
          ],
        })
          .setLogger(silentLogger)
          .compile();
        return moduleRef.init();
      });
      expect(error).toBeInstanceOf(RedisOptionsError);
      expect((error as RedisOptionsError).field).toBe('keyPrefix');
    });

    it('an injected connection that is not configured is named in the error', async () => {
      const error = await startupError(async () => {
        const moduleRef = await Test.createTestingModule({
          imports: [RedisModule.forRootAsync({ useFactory: () => ({ url: REDIS_URL }), connectionNames: ['reports'] })],
        })
          .setLogger(silentLogger)
          .compile();
        return moduleRef.init();
      });
      expect(error).toBeInstanceOf(RedisOptionsError);
      expect((error as RedisOptionsError).field).toBe('connections.reports');
    });
  });

  describe('unreachable Redis', () => {
    let silent: Server;
    let silentPort: number;
    const sockets = new Set<Socket>();

    beforeAll(async () => {
      // Accepts TCP connections and never answers: the case ioredis alone would wait on for its own 10 s timeout.
      silent = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      silentPort = (silent.address() as { port: number }).port;
    });

    afterAll(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => silent.close(resolve));
    });

    it('fails fast within connectTimeout when nothing listens', async () => {
      const port = await freePort();
      const started = Date.now();
      const error = await startupError(() =>
        bootRedisModule({ url: `redis://127.0.0.1:${port}`, connectTimeout: 600 }),
      );
      const elapsed = Date.now() - started;
      expect(error).toBeInstanceOf(RedisConnectionError);
      expect(error.message).toContain(`redis://127.0.0.1:${port}`);
      expect(error.message).toContain('connectTimeout 600 ms');
      expect(error.message).toMatch(/ECONNREFUSED/);
      expect(elapsed).toBeGreaterThanOrEqual(550);
      expect(elapsed).toBeLessThan(600 + 1_500);
    });

    it('fails fast within connectTimeout when the server accepts but never answers', async () => {
      const started = Date.now();
      const error = await startupError(() =>
        bootRedisModule({ url: `redis://127.0.0.1:${silentPort}`, connectTimeout: 700 }),
      );
      expect(error).toBeInstanceOf(RedisConnectionError);
      expect((error as RedisConnectionError).connection).toBe('default');
      expect(Date.now() - started).toBeLessThan(700 + 1_500);
    });

    it('never puts the password in the error or the logs', async () => {
      const port = await freePort();
      const logs = new LogCapture();
      const error = await startupError(() =>
        bootRedisModule({ url: `redis://admin:S3cr3t-pw@127.0.0.1:${port}`, connectTimeout: 300 }, logs.logger),
      );
      expect(error.message).toContain(`redis://admin@127.0.0.1:${port}`);
      expect(`${error.message}\n${error.stack}\n${logs.text}`).not.toContain('S3cr3t-pw');
    });
  });

  describe('startDegraded', () => {
    let server: RedisServerProcess;

    beforeAll(async () => {
      server = await RedisServerProcess.start({ args: ['--requirepass', 'pw-not-logged'] });
    });

    afterAll(async () => {
      await server.stop();
    });

    it('boots without Redis, logs without secrets, and recovers by itself when the server comes back', async () => {
      await server.stop({ keepDir: true });
      const logs = new LogCapture();
      app = await bootRedisModule(
        { url: `redis://:pw-not-logged@127.0.0.1:${server.port}`, connectTimeout: 300, startDegraded: true },
        logs.logger,
      );
      const client = app.get<RedisClient>(getRedisConnectionToken());
      expect(client.status).not.toBe('ready');
      expect(logs.text).toMatch(/starting degraded/);

      await server.restart();
      expect(await eventually(() => client.status === 'ready', 10_000)).toBe(true);
      expect(await client.ping()).toBe('PONG');
      expect(logs.text).not.toContain('pw-not-logged');
    });
  });

  describe('wrong password', () => {
    let server: RedisServerProcess;

    beforeAll(async () => {
      server = await RedisServerProcess.start({ args: ['--requirepass', 'right-pass-123'] });
    });

    afterAll(async () => {
      await server.stop();
    });

    it('fails at startup with the server’s reason and no secret', async () => {
      const logs = new LogCapture();
      const error = await startupError(() =>
        bootRedisModule(
          { url: `redis://:WRONG-pass-456@127.0.0.1:${server.port}`, connectTimeout: 1_000 },
          logs.logger,
        ),
      );
      expect(error).toBeInstanceOf(RedisConnectionError);
      expect(error.message).toMatch(/WRONGPASS|invalid password|invalid username-password/i);
      expect(`${error.message}\n${error.stack}\n${logs.text}`).not.toContain('WRONG-pass-456');
      expect(`${error.message}\n${logs.text}`).not.toContain('right-pass-123');
    });

    it('connects with the right password given separately from the URL', async () => {
      app = await bootRedisModule({ url: `redis://127.0.0.1:${server.port}`, password: 'right-pass-123' });
      expect(await app.get<RedisClient>(getRedisConnectionToken()).ping()).toBe('PONG');
    });
  });
});
