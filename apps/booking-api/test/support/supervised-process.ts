import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A demo app run as an OS process the way an orchestrator runs a pod: whenever it dies (SIGKILLed by the test, or
 * by itself) it is started again, until {@link stop}. For fault tests that kill replicas mid-traffic.
 */
export class SupervisedProcess {
  readonly output: string[] = [];
  /** How many times the process was started (1 + restarts). */
  starts = 0;
  private child?: ChildProcess;
  private supervising = false;
  private exited?: Promise<void>;

  /**
   * @param name prefixed to nothing, shown in failures
   * @param args what `node` runs, e.g. `['--import', './src/runtime/register.mjs', 'apps/…/main.ts']`
   * @param managementUrl where its health answers (`http://127.0.0.1:<management port>`)
   * @param env variables added to this process's environment
   */
  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly managementUrl: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts the process and keeps it running (restarting it whenever it exits) until {@link stop}. */
  start(): void {
    this.supervising = true;
    this.spawnOnce();
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * SIGKILLs the running process (no shutdown hooks); the supervisor starts it again.
   *
   * @returns whether there was a live process to kill
   */
  kill(): boolean {
    if (!this.alive) return false;
    return this.child!.kill('SIGKILL');
  }

  /** Whether the running process answers 200 on `path` of its management side right now. */
  async healthy(path = '/health/ready'): Promise<boolean> {
    try {
      const response = await fetch(this.managementUrl + path, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return response.ok && this.alive;
    } catch {
      return false;
    }
  }

  /** Polls {@link healthy} until it holds (whatever restarts happen meanwhile) or `timeoutMs` passes. */
  async waitHealthy(path = '/health/ready', timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.healthy(path)) return true;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return false;
  }

  /** Stops supervising, then SIGTERM (SIGKILL after 10 s) and waits for the exit. */
  async stop(): Promise<void> {
    this.supervising = false;
    if (!this.alive) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private spawnOnce(): void {
    const child = spawn(process.execPath, this.args, {
      env: { ...process.env, ...this.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.starts++;
    const collect = (data: Buffer) => this.output.push(...data.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        if (this.supervising) this.spawnOnce();
        resolve();
      }),
    );
  }
}
