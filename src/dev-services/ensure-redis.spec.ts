import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { freePort } from '@test/harness';
import { ensureRedis, redisAnswers } from './ensure-redis.js';

describe('ensureRedis', () => {
  const started: number[] = [];

  afterAll(() => {
    for (const port of started) spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
  });

  it('leaves a listening Redis alone', async () => {
    const lines: string[] = [];
    const result = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', (l) => lines.push(l));
    expect(result.started).toBe(false);
    expect(lines).toEqual([]);
  });

  it('starts a local redis-server when none listens on a local URL, and says so', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const result = await ensureRedis(`redis://127.0.0.1:${port}`, (l) => lines.push(l));
    started.push(port);
    expect(result).toEqual({ url: `redis://127.0.0.1:${port}`, started: true });
    expect(await redisAnswers('127.0.0.1', port)).toBe(true);
    expect(lines.join('\n')).toContain(
      `started a local redis-server there (stop it with: redis-cli -p ${port} shutdown)`,
    );
  });
});
