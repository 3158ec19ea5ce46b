import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@test/harness';

export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const ENSURE_SCRIPT = join(REPO_ROOT, 'src/dev-services/ensure-prometheus.sh');

/**
 * Runs `src/dev-services/ensure-prometheus.sh` (installs Debian's prometheus and prometheus-redis-exporter when
 * missing; instant otherwise) and fails with its output, which says what to do, when it cannot.
 */
export function ensurePrometheus(): void {
  const result = spawnSync('bash', [ENSURE_SCRIPT], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `The real-Prometheus tests need prometheus, promtool and prometheus-redis-exporter, and ` +
        `src/dev-services/ensure-prometheus.sh could not install them:\n${result.stdout}${result.stderr}`,
    );
  }
}

/** `promtool <args>` with `input` on stdin: exit status and everything it printed. */
export function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8', input, cwd: REPO_ROOT });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** One scrape job of the generated configuration. */
export interface ScrapeJob {
  job: string;
  targets: string[];
  metricsPath?: string;
}

/** One sample of an instant vector. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A child process with its output kept (for failure messages) and a stop that waits for the exit. */
class OwnedProcess {
  readonly output: string[] = [];
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    const collect = (data: Buffer) => this.output.push(...data.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** `prometheus-redis-exporter` on a free port, reading one Redis. */
export class RedisExporterProcess {
  private constructor(
    readonly port: number,
    private readonly process: OwnedProcess,
  ) {}

  static async start(redisUrl: string): Promise<RedisExporterProcess> {
    const port = await freePort();
    const child = spawn(
      'prometheus-redis-exporter',
      ['-redis.addr', redisUrl, '-web.listen-address', `127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new RedisExporterProcess(port, new OwnedProcess('prometheus-redis-exporter', child));
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}

/**
 * A real Prometheus on a free port, with a throwaway TSDB directory, scraping `jobs` every second and evaluating
 * `ruleFiles` every second. Always `stop()` it.
 */
export class PrometheusProcess {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly process: OwnedProcess,
  ) {}

  static async start(jobs: ScrapeJob[], ruleFiles: string[] = []): Promise<PrometheusProcess> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), `prometheus-${port}-`));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: ruleFiles,
      scrape_configs: jobs.map(({ job, targets, metricsPath }) => ({
        job_name: job,
        metrics_path: metricsPath ?? '/metrics',
        static_configs: [{ targets }],
      })),
    };
    // JSON is YAML: no YAML writer needed.
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const prometheus = new PrometheusProcess(port, dir, new OwnedProcess('prometheus', child));
    await prometheus.waitReady();
    return prometheus;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The last lines Prometheus printed, for failure messages. */
  get log(): string {
    return this.process.output.slice(-20).join('\n');
  }

  private async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.process.running) throw new Error(`prometheus exited:\n${this.log}`);
      try {
        if ((await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(1_000) })).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`prometheus was not ready within ${timeoutMs} ms:\n${this.log}`);
  }

  private async api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const response = await fetch(`${this.url}/api/v1/${path}?${new URLSearchParams(params)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  }

  /** An instant query (now): the samples of the resulting vector. */
  async query(expr: string): Promise<PromSample[]> {
    const data = await this.api<{ resultType: string; result: PromSample[] }>('query', { query: expr });
    if (data.resultType !== 'vector') throw new Error(`${expr}: a ${data.resultType}, not a vector`);
    return data.result;
  }

  /** The values of `label` on the series `selector` matches, as Grafana's `label_values(selector, label)` lists them. */
  labelValues(label: string, selector: string): Promise<string[]> {
    return this.api<string[]>(`label/${encodeURIComponent(label)}/values`, { 'match[]': selector });
  }

  /**
   * Waits until Prometheus has scraped every target `scrapes` more times (successful or not) than when called:
   * what it read then is in the TSDB, however slow the machine.
   */
  async waitForScrapes(scrapes: number, timeoutMs = 60_000): Promise<void> {
    const counts = async () =>
      new Map(
        (await this.query('count_over_time(up[1h])')).map((s) => [`${s.metric.job}/${s.metric.instance}`, +s.value[1]]),
      );
    const before = await counts();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const now = await counts();
      if ([...before].every(([target, count]) => (now.get(target) ?? 0) >= count + scrapes)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`Prometheus did not scrape every target ${scrapes} more times within ${timeoutMs} ms`);
  }

  /** Scrape targets and their health. */
  async targets(): Promise<Array<{ job: string; instance: string; health: string; lastError: string }>> {
    const data = await this.api<{
      activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }>;
    }>('targets', { state: 'active' });
    return data.activeTargets.map((t) => ({
      job: t.labels.job ?? '',
      instance: t.labels.instance ?? '',
      health: t.health,
      lastError: t.lastError,
    }));
  }

  /** Rule groups as Prometheus evaluates them: each rule's health and last error. */
  async rules(): Promise<Array<{ name: string; health: string; lastError?: string; evaluated: boolean }>> {
    const data = await this.api<{
      groups: Array<{
        rules: Array<{ name: string; health: string; lastError?: string; lastEvaluation: string }>;
      }>;
    }>('rules');
    return data.groups.flatMap((g) =>
      g.rules.map((r) => ({
        name: r.name,
        health: r.health,
        lastError: r.lastError,
        evaluated: !r.lastEvaluation.startsWith('0001-'),
      })),
    );
  }

  async stop(): Promise<void> {
    await this.process.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
