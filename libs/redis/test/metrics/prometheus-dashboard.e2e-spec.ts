import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEMO_VENUE_ID } from '../../../../apps/booking-api/src/database/seed-demo-data.js';
import { TEST_DATABASE_URL } from '../../../../apps/booking-api/test/support/test-database.js';
import { AppProcess } from '../../../../src/demo/app-process.js';
import { runBookingScenario, type ScenarioReport } from '../../../../src/demo/booking-scenario.js';
import { readOperatorView } from '../../../../src/demo/operator-view.js';
import { sql } from '../../../../src/demo/sql-client.js';
import { RedisServerProcess, eventually, freePort, uniqueKeyPrefix } from '@test/harness';
import {
  PrometheusProcess,
  REPO_ROOT,
  RedisExporterProcess,
  ensurePrometheus,
  promtool,
  type PromSample,
} from './support/prometheus.js';

const TS_LOADER = ['--import', './src/runtime/register.mjs'];
const DASHBOARD = join(REPO_ROOT, 'deploy/grafana/nest-redis-dashboard.json');
const ALERT_RULES = join(REPO_ROOT, 'deploy/prometheus/nest-redis-alerts.yml');

interface Dashboard {
  templating: { list: Array<{ name: string; type: string; query?: string }> };
  panels: Array<{ title: string; targets?: Array<{ refId: string; expr: string }> }>;
}

/** One query of the dashboard, variables still in it. */
interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
}

/** `label_values(selector, label)`, the only variable query form the dashboard uses. */
function parseLabelValues(query: string): { selector: string; label: string } {
  const match = /^label_values\((.+),\s*(\w+)\)$/.exec(query);
  if (!match) throw new Error(`not a label_values() query: ${query}`);
  return { selector: match[1]!, label: match[2]! };
}

/** A multi-value variable in a regex matcher, as Grafana interpolates it: `(a|b)`, regex characters escaped. */
function regexOf(values: string[]): string {
  return `(${values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&')).join('|')})`;
}

/**
 * The dashboard under deploy/grafana evaluated, query by query, by a real Prometheus (Debian's 2.42, installed by
 * src/dev-services/ensure-prometheus.sh when missing) that scraped the demo every second: two booking-api processes
 * and a booking-worker (run from source, on a throwaway redis-server and a schema of the test PostgreSQL), and
 * prometheus-redis-exporter on that Redis, after the demo's booking scenario as workload.
 */
describe('deploy/grafana/nest-redis-dashboard.json against a real Prometheus scraping the demo', () => {
  const keyPrefix = uniqueKeyPrefix('prometheus-dashboard');
  const schema = `t_prom_${randomBytes(4).toString('hex')}`;
  const apps: AppProcess[] = [];
  let redis: RedisServerProcess | undefined;
  let exporter: RedisExporterProcess | undefined;
  let prometheus: PrometheusProcess | undefined;
  let report: ScenarioReport;
  let queries: DashboardQuery[];
  let variables: Record<string, string[]>;
  const results = new Map<DashboardQuery, PromSample[]>();

  beforeAll(async () => {
    ensurePrometheus();
    // maxmemory set, so the dashboard's "memory vs maxmemory" panel and the memory alert have a real limit.
    redis = await RedisServerProcess.start({ args: ['--maxmemory', '256mb'] });
    exporter = await RedisExporterProcess.start(redis.url);

    const shared = {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: keyPrefix,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema,
      DATABASE_POOL_SIZE: '5',
      SEED_DEMO_DATA: 'true',
      BOOKING_LOCK_WAIT_MS: '30000',
    };
    for (const replica of [1, 2]) {
      const [port, management] = [await freePort(), await freePort()];
      apps.push(
        new AppProcess(`booking-api #${replica}`, [...TS_LOADER, 'apps/booking-api/src/main.ts'], port, management, {
          ...shared,
          PORT: String(port),
          MANAGEMENT_PORT: String(management),
        }),
      );
    }
    const [workerPort, workerManagement] = [await freePort(), await freePort()];
    apps.push(
      new AppProcess(
        'booking-worker',
        [...TS_LOADER, 'apps/booking-worker/src/main.ts'],
        workerPort,
        workerManagement,
        { ...shared, WORKER_PORT: String(workerPort), WORKER_MANAGEMENT_PORT: String(workerManagement) },
      ),
    );
    apps.forEach((app) => app.start());
    for (const app of apps) expect((await app.waitHealthy('/health', 90_000)).status).toBe(200);

    const hostOf = (app: AppProcess) => new URL(app.managementUrl).host;
    prometheus = await PrometheusProcess.start(
      [
        { job: 'booking-api', targets: apps.slice(0, 2).map(hostOf) },
        { job: 'booking-worker', targets: [hostOf(apps[2]!)] },
        { job: 'redis', targets: [exporter.address] },
      ],
      [ALERT_RULES],
    );
    const up = await eventually(async () => {
      const targets = await prometheus!.targets();
      return targets.length === 4 && targets.every((t) => t.health === 'up');
    }, 30_000);
    if (!up) throw new Error(`targets not up: ${JSON.stringify(await prometheus.targets())}\n${prometheus.log}`);
    // Scrapes before the workload: every series that exists from startup is seen at 0 first.
    await prometheus.waitForScrapes(2);
    report = await runBookingScenario(
      {
        apiUrls: [apps[0]!.baseUrl, apps[1]!.baseUrl],
        workerUrl: apps[2]!.baseUrl,
        venueId: DEMO_VENUE_ID,
        date: new Date().toISOString().slice(0, 10),
        database: { url: TEST_DATABASE_URL, schema },
      },
      { attempts: 40, reads: 100, replays: 2 },
    );
    // A second, smaller round once Prometheus has seen the first, so counters born during the first round (the
    // cache's, per cache name) rise between two scrapes too; then a few scrapes to read it all.
    await prometheus.waitForScrapes(2);
    for (let i = 0; i < 20; i++) {
      await fetch(
        `${apps[i % 2]!.baseUrl}/venues/${DEMO_VENUE_ID}/availability?date=${new Date().toISOString().slice(0, 10)}`,
      );
    }
    await prometheus.waitForScrapes(3);

    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    variables = {};
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const { selector, label } = parseLabelValues(variable.query!);
      variables[variable.name] = await prometheus.labelValues(label, selector);
    }
    queries = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map(({ refId, expr }) => ({ panel: panel.title, refId, expr })),
    );
    for (const query of queries) {
      const expr = query.expr.replace(/\$(\w+)/g, (_, name: string) => regexOf(variables[name] ?? []));
      results.set(query, await prometheus.query(expr));
    }
  }, 300_000);

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(apps.map((app) => app.stop()));
    await exporter?.stop();
    await redis?.stop();
    await sql(TEST_DATABASE_URL, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }, 60_000);

  it('ran the workload: 10 bookings confirmed, 30 sold out, the worker handled every event', () => {
    expect(report.attempts).toEqual({ '201': 10, '409 SOLD_OUT': 30 });
    // The scenario's cache hit ratio threshold depends on read speed (entries expire while a loaded machine reads
    // slowly): the workload is what matters here, and the cache panels are checked against Prometheus below.
    const failed = report.checks.filter((check) => check.outcome !== 'ok' && !check.name.includes('cache hit ratio'));
    expect(failed).toEqual([]);
    expect(report.checks.map((check) => check.name)).toContain(
      'worker: one notification per booking (11), 12 events handled once',
    );
  });

  it('passes promtool check metrics, with no finding, on the /metrics of every app', async () => {
    for (const url of apps.map((app) => `${app.managementUrl}/metrics`)) {
      const text = await (await fetch(url)).text();
      expect(text).toContain('nest_redis_');
      const { status, output } = promtool(['check', 'metrics'], text);
      expect({ url, output: output.trim(), status }).toEqual({ url, output: '', status: 0 });
    }
  });

  it("parses the exporter's /metrics with promtool; its lint findings name only the exporter's own series", async () => {
    const text = await (await fetch(`http://${exporter!.address}/metrics`)).text();
    const { status, output } = promtool(['check', 'metrics'], text);
    // 0: clean, 3: lint findings only (1 would be a parse error). prometheus-redis-exporter 1.45 names some series
    // against the conventions (`redis_total_reads_processed` without `_total` last, `_sec` units...): not ours.
    expect([0, 3]).toContain(status);
    const flagged = output
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ')[0]!);
    expect(flagged.filter((name) => !name.startsWith('redis_') || name.startsWith('nest_redis_'))).toEqual([]);
  });

  it('fills the variables: $job lists both apps on a healthy system, $redis the exporter', () => {
    expect(variables.job?.sort()).toEqual(['booking-api', 'booking-worker']);
    expect(variables.redis).toEqual([exporter!.address]);
  });

  it('returns data for every expression of the dashboard', () => {
    const empty = queries.filter((query) => (results.get(query) ?? []).length === 0);
    process.stdout.write(
      `Dashboard expressions evaluated against Prometheus: ${queries.length}, empty: ${empty.length}\n`,
    );
    expect(queries.length).toBeGreaterThanOrEqual(27);
    expect(empty.map(({ panel, refId, expr }) => `${panel} [${refId}]: ${expr}`)).toEqual([]);
  });

  it('shows a finite loader p99 (cache_load_duration_seconds is observed)', () => {
    const loader = queries.find((q) => q.expr.includes('cache_load_duration_seconds_bucket'))!;
    const values = results.get(loader)!.map((s) => Number(s.value[1]));
    expect(values.some((v) => Number.isFinite(v) && v > 0)).toBe(true);
  });

  it('splits lock wait quantiles by outcome, with a finite p99 for acquired locks', () => {
    const p99 = queries.find((q) => q.expr.includes('histogram_quantile(0.99') && q.expr.includes('lock_wait'))!;
    const samples = results.get(p99)!;
    expect(new Set(samples.map((s) => s.metric.outcome))).toEqual(new Set(['acquired', 'failed']));
    const acquired = samples.find((s) => s.metric.outcome === 'acquired')!;
    expect(Number.isFinite(Number(acquired.value[1]))).toBe(true);
  });

  it("shows the worker's transport series next to the APIs' cache series (one $job for both)", () => {
    const handled = queries.find((q) => q.expr.includes('transport_messages_handled_total'))!;
    expect(results.get(handled)!.map((s) => s.metric.pattern)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^booking\./)]),
    );
    const hitRatio = queries.find((q) => q.panel === 'Cache hit ratio (library)')!;
    expect(Number(results.get(hitRatio)![0]!.value[1])).toBeGreaterThan(0);
  });

  it("reads the demo's operator view from /metrics with the figures Prometheus computes from its scrapes", async () => {
    const view = await readOperatorView(
      apps.slice(0, 2).map((app) => `${app.managementUrl}/metrics`),
      [`${apps[2]!.managementUrl}/metrics`],
    );
    const scalar = async (expr: string) => Number((await prometheus!.query(expr))[0]?.value[1]);
    const hits = 'sum(nest_redis_cache_hits_total{job="booking-api"})';
    const misses = 'sum(nest_redis_cache_misses_total{job="booking-api"})';
    expect(view.cacheHitRatio).toBeCloseTo(await scalar(`${hits} / (${hits} + ${misses})`), 9);
    expect(view.transportHandled).toBe(
      await scalar('sum(nest_redis_transport_messages_handled_total{job="booking-worker"})'),
    );
    expect(view.transportLag).toBe(await scalar('sum(nest_redis_transport_consumer_lag{job="booking-worker"})'));
    // Prometheus interpolates inside the bucket; the operator view shows the bucket's upper bound.
    const p99 = await scalar(
      'histogram_quantile(0.99, sum by (le) (nest_redis_lock_wait_seconds_bucket{job="booking-api", outcome="acquired"}))',
    );
    expect(p99).toBeGreaterThan(0);
    expect(p99).toBeLessThanOrEqual(view.lockWaitP99Seconds!);
  });

  it('loads the alert rules into Prometheus, where each one evaluates without error', async () => {
    const rules = await prometheus!.rules();
    expect(rules).toHaveLength(11);
    expect(rules.filter((rule) => rule.health !== 'ok' || !rule.evaluated)).toEqual([]);
  });
});
