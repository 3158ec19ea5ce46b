import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisConnectionError, RedisKeyspace, getRedisConnectionToken, type RedisClient } from '@app/redis';
import {
  LogCapture,
  bootRedisModule,
  startupError,
  RedisServerProcess,
  generateTlsCertificates,
  uniqueKeyPrefix,
  type TlsCertificates,
} from '@test/harness';

describe('Connecting with an ACL user and over TLS', () => {
  let app: INestApplicationContext | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  describe('ACL user + password', () => {
    const prefix = uniqueKeyPrefix('acl');
    let server: RedisServerProcess;

    beforeAll(async () => {
      server = await RedisServerProcess.start({ args: ['--requirepass', 'admin-secret-pw'] });
      const admin = new Redis(server.port, '127.0.0.1', { password: 'admin-secret-pw' });
      await admin.call('ACL', 'SETUSER', 'booking-app', 'on', '>app-secret-pw', `~${prefix}*`, '+@all');
      admin.disconnect();
    });

    afterAll(async () => {
      await server?.stop();
    });

    it('connects as the ACL user from the URL and is confined to its key pattern by the server', async () => {
      app = await bootRedisModule({
        url: `redis://booking-app:app-secret-pw@127.0.0.1:${server.port}`,
        keyPrefix: prefix,
      });
      const client = app.get<RedisClient>(getRedisConnectionToken());
      expect(await client.call('ACL', 'WHOAMI')).toBe('booking-app');
      const key = app.get(RedisKeyspace).key('inside');
      await client.set(key, 'ok');
      expect(await client.get(key)).toBe('ok');
      await expect(client.set('outside-the-namespace', 'x')).rejects.toThrow(/NOPERM/);
    });

    it('fails at startup on a wrong password with the server’s reason, the user name and no secret', async () => {
      const logs = new LogCapture();
      const error = await startupError(() =>
        bootRedisModule(
          { url: `redis://booking-app:wrong-secret-pw@127.0.0.1:${server.port}`, connectTimeout: 1_000 },
          logs.logger,
        ),
      );
      expect(error).toBeInstanceOf(RedisConnectionError);
      expect(error.message).toMatch(/WRONGPASS/);
      expect(error.message).toContain(`redis://booking-app@127.0.0.1:${server.port}`);
      const everything = `${error.message}\n${error.stack}\n${logs.text}`;
      expect(everything).not.toContain('wrong-secret-pw');
      expect(everything).not.toContain('app-secret-pw');
    });
  });

  describe('TLS (rediss://) with a custom CA', () => {
    let certs: TlsCertificates;
    let server: RedisServerProcess;

    beforeAll(async () => {
      certs = generateTlsCertificates();
      server = await RedisServerProcess.start({
        args: ['--requirepass', 'tls-secret-pw'],
        tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, authClients: false },
      });
    });

    afterAll(async () => {
      await server?.stop();
      certs?.remove();
    });

    it('connects over TLS when the CA is trusted', async () => {
      app = await bootRedisModule({
        url: `rediss://:tls-secret-pw@127.0.0.1:${server.tlsPort}`,
        redisOptions: { tls: { ca: certs.ca } },
      });
      const client = app.get<RedisClient>(getRedisConnectionToken());
      expect(await client.ping()).toBe('PONG');
      expect((await client.client('INFO')) as string).toContain(`laddr=127.0.0.1:${server.tlsPort}`);
    });

    it('fails at startup with a certificate error and no secret when the server’s CA is not trusted', async () => {
      const logs = new LogCapture();
      const error = await startupError(() =>
        bootRedisModule(
          {
            url: `rediss://:tls-secret-pw@127.0.0.1:${server.tlsPort}`,
            redisOptions: { tls: { ca: certs.otherCa } },
            connectTimeout: 1_000,
          },
          logs.logger,
        ),
      );
      expect(error).toBeInstanceOf(RedisConnectionError);
      expect(error.message).toMatch(/certificate/i);
      expect(error.message).toContain(`rediss://127.0.0.1:${server.tlsPort}`);
      expect(`${error.message}\n${error.stack}\n${logs.text}`).not.toContain('tls-secret-pw');
    });
  });

  describe('mutual TLS (client certificates required)', () => {
    let certs: TlsCertificates;
    let server: RedisServerProcess;

    beforeAll(async () => {
      certs = generateTlsCertificates();
      server = await RedisServerProcess.start({
        tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, authClients: true },
      });
    });

    afterAll(async () => {
      await server?.stop();
      certs?.remove();
    });

    it('connects with a client certificate signed by the server’s CA', async () => {
      app = await bootRedisModule({
        url: `rediss://127.0.0.1:${server.tlsPort}`,
        redisOptions: { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } },
      });
      expect(await app.get<RedisClient>(getRedisConnectionToken()).ping()).toBe('PONG');
    });

    it('fails at startup without a client certificate', async () => {
      const error = await startupError(() =>
        bootRedisModule({
          url: `rediss://127.0.0.1:${server.tlsPort}`,
          redisOptions: { tls: { ca: certs.ca } },
          connectTimeout: 1_000,
        }),
      );
      expect(error).toBeInstanceOf(RedisConnectionError);
      expect((error as RedisConnectionError).connection).toBe('default');
    });
  });
});
