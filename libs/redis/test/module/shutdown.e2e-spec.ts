import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RedisModule } from '@app/redis';
import { RedisConnectionsRegistry } from '../../src/connection/redis-connections.registry.js';
import {
  REDIS_URL,
  bootstrapTestingApp,
  clientLinesNamed,
  clientsNamed,
  eventually,
  useRedisClient,
} from '@test/harness';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/shutdown-app.ts', import.meta.url));
const observer = useRedisClient();

describe('RedisModule shutdown', () => {
  it('app.close() closes every connection it opened: main, named and subscriber', async () => {
    const clientName = `shutdown-close-${process.pid}`;
    const app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, clientName, connections: { extra: { url: REDIS_URL } } }),
    ]);
    await app.get(RedisConnectionsRegistry).getSubscriber('default');
    expect((await clientsNamed(observer, `${clientName}:`)).sort()).toEqual([
      `${clientName}:default`,
      `${clientName}:default`,
      `${clientName}:extra`,
    ]);
    await app.close();
    expect(await eventually(async () => (await clientsNamed(observer, `${clientName}:`)).length === 0, 3_000)).toBe(
      true,
    );
  });

  it('with enableShutdownHooks(), SIGTERM closes every connection gracefully and the process exits', async () => {
    const clientName = `shutdown-signal-${process.pid}`;
    const child = spawn(process.execPath, ['--import', './src/runtime/register.mjs', fixture, REDIS_URL, clientName], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`fixture exited early (${code}): ${stderr}`)));
      });
      const connections = await clientLinesNamed(observer, `${clientName}:`);
      expect(connections).toHaveLength(3);
      // The child runs on the ioredis major under test too (RESP3 in the ioredis 6 smoke run).
      const expected = (globalThis as { EXPECTED_RESP_PROTOCOL?: number }).EXPECTED_RESP_PROTOCOL ?? 2;
      expect(connections.every((line) => line.includes(` resp=${expected}`))).toBe(true);

      child.kill('SIGTERM');
      const code = await exited;
      // Nest re-raises the signal after the hooks ran, so the exit is by SIGTERM (code null) or a clean 0.
      expect([0, null]).toContain(code);
      expect(stderr).not.toMatch(/error|did not close gracefully/i);
      expect(await clientsNamed(observer, `${clientName}:`)).toEqual([]);
    } finally {
      // A failed expectation must not leave the fixture running: Jest would wait for it.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
