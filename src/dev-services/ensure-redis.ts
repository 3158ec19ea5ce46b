import { spawnSync } from 'node:child_process';
import { probeTcp } from './tcp-probe.js';

/** Outcome of {@link ensureRedis}: whether a server was already listening or one was started here. */
export interface EnsureRedisResult {
  url: string;
  started: boolean;
}

/** True when something answers a RESP `PING` on host:port within `timeoutMs` (any reply counts, even NOAUTH). */
export function redisAnswers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return probeTcp(host, port, timeoutMs, { send: '*1\r\n$4\r\nPING\r\n', accept: (reply) => /^[+-]/.test(reply) });
}

function isLocalHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure a Redis answers on `url`. When none does, the URL points at this machine and `redis-server` is on
 * PATH, starts one (daemonized, nothing persisted) and says so; otherwise fails with what to do.
 */
export async function ensureRedis(
  url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<EnsureRedisResult> {
  const { hostname, port: portText } = new URL(url);
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(portText || 6379);
  if (await redisAnswers(host, port)) return { url, started: false };
  if (!isLocalHost(host) || !hasBinary('redis-server')) {
    throw new Error(
      `No Redis answers on ${host}:${port}. Start one (redis-server --port ${port} --save "" --appendonly no) ` +
        'or point REDIS_URL at a running server.',
    );
  }
  const result = spawnSync(
    'redis-server',
    [
      '--daemonize',
      'yes',
      '--bind',
      host === 'localhost' ? '127.0.0.1' : host,
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0)
    throw new Error(`redis-server failed to start on port ${port}: ${result.stderr || result.stdout}`);
  for (let i = 0; i < 50; i++) {
    if (await redisAnswers(host, port)) {
      log(
        `No Redis was listening on ${host}:${port}: started a local redis-server there (stop it with: redis-cli -p ${port} shutdown).`,
      );
      return { url, started: true };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Started redis-server on port ${port}, but it did not answer PING within 5 s.`);
}
