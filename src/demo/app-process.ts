import { type ChildProcess, spawn } from 'node:child_process';

/** One demo app started as its own OS process, with its output prefixed and kept for the summary. */
export class AppProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | NodeJS.Signals | null>;
  readonly output: string[] = [];

  /**
   * @param name shown in progress and summary lines
   * @param args what `node` runs: a built entry (`dist/…/main.js`), or `['--import', './src/runtime/register.mjs',
   *   'apps/…/main.ts']` to run the TypeScript sources
   * @param port the HTTP port the app is told to listen on (its public side)
   * @param managementPort the port of its management side (`/metrics`, health details), which the caller passes
   *   in `env` as the app's variable (`MANAGEMENT_PORT` or `WORKER_MANAGEMENT_PORT`)
   * @param env variables added to this process's environment
   */
  constructor(
    readonly name: string,
    private readonly args: string[],
    readonly port: number,
    readonly managementPort: number,
    private readonly env: Record<string, string>,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Where the management side answers: health with its details, `/metrics`. */
  get managementUrl(): string {
    return `http://127.0.0.1:${this.managementPort}`;
  }

  start(): void {
    const child = spawn(process.execPath, this.args, {
      env: { ...process.env, ...this.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (data: Buffer) => this.output.push(...data.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  }

  /**
   * Polls `path` on the management port (health details in the body, so a failure says why) until it answers 200,
   * the process dies, or `timeoutMs` passes.
   */
  async waitHealthy(path = '/health', timeoutMs = 60_000): Promise<{ status: number; body: unknown }> {
    const deadline = Date.now() + timeoutMs;
    let last: { status: number; body: unknown } = { status: 0, body: 'no answer yet' };
    while (Date.now() < deadline) {
      if (!this.child || this.child.exitCode !== null) {
        throw new Error(`${this.name} exited:\n${this.output.slice(-30).join('\n')}`);
      }
      try {
        const response = await fetch(this.managementUrl + path, { signal: AbortSignal.timeout(2_000) });
        last = { status: response.status, body: await response.json() };
        if (response.ok) return last;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return last;
  }

  /**
   * SIGTERM (the apps close in their shutdown hooks, then Nest re-raises the signal, so a clean stop ends by
   * `SIGTERM`), SIGKILL after 10 s.
   *
   * @returns the exit code, or the signal that ended the process
   */
  async stop(): Promise<number | NodeJS.Signals | null> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) {
      return this.child?.exitCode ?? this.child?.signalCode ?? null;
    }
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    const ended = await this.exited;
    clearTimeout(timer);
    return ended ?? null;
  }
}
