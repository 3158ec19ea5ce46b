import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { ensureRedis } from '../dev-services/ensure-redis.js';
import { AppProcess } from './app-process.js';

/**
 * `npm run demo`: builds the booking API and worker, starts a local Redis if none is listening, runs both apps as
 * separate processes under a fresh key prefix, checks that each reports healthy, prints a summary and stops
 * everything it started. Exits non-zero when an invariant fails.
 */

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  const redis = await ensureRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', say);
  say(`Redis: ${redis.started ? 'started a local redis-server' : 'using the one already listening'}`);

  say('Building booking-api and booking-worker (nest build)…');
  const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  if (build.status !== 0) return 1;

  const keyPrefix = `demo:${randomBytes(3).toString('hex')}:`;
  const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: keyPrefix };
  const apiPort = await freePort();
  const workerPort = await freePort();
  const apps = [
    new AppProcess('booking-api', 'dist/apps/booking-api/apps/booking-api/src/main.js', apiPort, {
      ...env,
      PORT: String(apiPort),
    }),
    new AppProcess('booking-worker', 'dist/apps/booking-worker/apps/booking-worker/src/main.js', workerPort, {
      ...env,
      WORKER_PORT: String(workerPort),
    }),
  ];

  const failures: string[] = [];
  try {
    apps.forEach((app) => app.start());
    say(`Started ${apps.map((a) => `${a.name} on ${a.baseUrl}`).join(' and ')} (key prefix ${keyPrefix})`);
    const health = await Promise.all(apps.map(async (app) => ({ app, result: await app.waitHealthy() })));
    say('\nSummary');
    for (const { app, result } of health) {
      const ok = result.status === 200;
      say(`  ${ok ? '✔' : '✘'} ${app.name.padEnd(15)} GET /health → ${result.status} ${JSON.stringify(result.body)}`);
      if (!ok) failures.push(`${app.name} is not healthy`);
    }
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  } finally {
    const codes = await Promise.all(apps.map((app) => app.stop()));
    say(`  ✔ stopped both apps (exit ${codes.map((c) => c ?? 'by signal').join(', ')})`);
  }
  for (const failure of failures) say(`  ✘ ${failure}`);
  say(failures.length === 0 ? '\nAll invariants hold.' : `\n${failures.length} invariant(s) failed.`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
