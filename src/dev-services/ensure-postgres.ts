import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { probeTcp } from './tcp-probe.js';

/** True when something accepts a TCP connection on host:port within `timeoutMs`. */
export function portAnswers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return probeTcp(host, port, timeoutMs);
}

/**
 * Makes sure the PostgreSQL the demo's tests use (TEST_DATABASE_URL) accepts connections. When it does not, the URL
 * points at this machine and a Debian cluster is installed (`pg_ctlcluster`), starts it and says so; otherwise
 * fails with what to do.
 */
export async function ensurePostgres(
  url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<{ started: boolean }> {
  const { hostname, port: portText } = new URL(url);
  const port = Number(portText || 5432);
  if (await portAnswers(hostname, port)) return { started: false };
  const local = ['127.0.0.1', 'localhost', '::1'].includes(hostname);
  const versions = local ? safeList('/etc/postgresql') : [];
  if (versions.length > 0) {
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', versions[0], 'main', 'start'], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      if (await portAnswers(hostname, port)) {
        log(`PostgreSQL was not accepting connections on ${hostname}:${port}: started cluster ${versions[0]}/main.`);
        return { started: true };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(
    `No PostgreSQL accepts connections on ${hostname}:${port}. The demo's tests need one (trust auth, database ` +
      '"test"): start it, or point TEST_DATABASE_URL at a running server.',
  );
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
