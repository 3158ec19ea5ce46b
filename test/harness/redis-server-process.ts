import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisAnswers } from '../../src/dev-services/ensure-redis.js';
import { freePort } from './free-port.js';

export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. `['--requirepass', 'secret']`. */
  args?: string[];
  /** Reserve port + 10000 too (cluster bus). */
  clusterBus?: boolean;
  /** Run `redis-server --sentinel` with this config text instead of a data node. */
  sentinelConfig?: string;
  /** Also listen for TLS on a second free port (`tlsPort`), with these PEM files. */
  tls?: { certFile: string; keyFile: string; caFile: string; authClients: boolean };
}

/**
 * A throwaway `redis-server` on a free port, with its own temp directory and nothing persisted. Can be stopped,
 * killed and restarted on the same port to simulate failures. Always `stop()` it (in `afterAll`).
 */
export class RedisServerProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
    /** The TLS port when started with `tls`, else 0. */
    readonly tlsPort: number,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServerProcess> {
    const port = await freePort({ withBusPort: options.clusterBus });
    const tlsPort = options.tls ? await freePort() : 0;
    const dir = mkdtempSync(join(tmpdir(), `redis-${port}-`));
    const server = new RedisServerProcess(port, dir, options, tlsPort);
    await server.launch();
    return server;
  }

  get host(): string {
    return '127.0.0.1';
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process again on the same port (after `stop()` or `kill()`). */
  async restart(): Promise<void> {
    if (this.child) throw new Error(`redis-server on port ${this.port} is still running`);
    await this.launch();
  }

  /** Sends SIGKILL (a crash: no shutdown, no goodbye to clients) and waits for the exit. */
  async kill(): Promise<void> {
    await this.terminate('SIGKILL');
  }

  /** SIGSTOP / SIGCONT: the server keeps its sockets but answers nothing, like a network partition. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops the process (SIGTERM) and, unless `keepDir`, removes its directory. Safe to call twice. */
  async stop({ keepDir = false } = {}): Promise<void> {
    this.resume();
    await this.terminate('SIGTERM');
    if (!keepDir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (signal !== 'SIGKILL') child.kill('SIGCONT');
    child.kill(signal);
    await this.exited;
  }

  private async launch(): Promise<void> {
    const base = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
    ];
    let args: string[];
    if (this.options.sentinelConfig !== undefined) {
      const configPath = join(this.dir, 'sentinel.conf');
      writeFileSync(configPath, `port ${this.port}\nbind 127.0.0.1\ndir ${this.dir}\n${this.options.sentinelConfig}\n`);
      args = [configPath, '--sentinel'];
    } else {
      const tls = this.options.tls;
      const tlsArgs = tls
        ? ['--tls-port', String(this.tlsPort), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile].concat([
            '--tls-ca-cert-file',
            tls.caFile,
            '--tls-auth-clients',
            tls.authClients ? 'yes' : 'no',
          ])
        : [];
      args = [...base, ...tlsArgs, ...(this.options.args ?? [])];
    }
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        this.child = undefined;
        resolve();
      }),
    );
    for (let i = 0; i < 100; i++) {
      if (!this.child) throw new Error(`redis-server on port ${this.port} exited at startup: ${stderr}`);
      if (await redisAnswers(this.host, this.port, 200)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.terminate('SIGKILL');
    throw new Error(`redis-server on port ${this.port} did not answer within 5 s: ${stderr}`);
  }
}
