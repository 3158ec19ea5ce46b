import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RedisModule } from '@app/redis';
import { DEFAULT_METRICS_PREFIX, RedisMetricsModule, RedisMetricsService } from '@app/redis/metrics';
import { REDIS_URL, bootstrapTestingApp, uniqueKeyPrefix } from '@test/harness';

const dashboardPath = fileURLToPath(new URL('../../../../deploy/grafana/nest-redis-dashboard.json', import.meta.url));

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

/** Every `nest_redis_…` series a PromQL expression reads, with histogram suffixes folded to the metric name. */
function librarySeries(expr: string): string[] {
  return [...expr.matchAll(new RegExp(`\\b${DEFAULT_METRICS_PREFIX}[a-z_]+`, 'g'))].map(([name]) =>
    name.replace(/_(bucket|count|sum)$/, ''),
  );
}

describe('deploy/grafana/nest-redis-dashboard.json', () => {
  let app: INestApplicationContext;
  let panels: Panel[];

  beforeAll(async () => {
    panels = (JSON.parse(readFileSync(dashboardPath, 'utf8')) as { panels: Panel[] }).panels;
    app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix: uniqueKeyPrefix('dashboard') }),
      RedisMetricsModule.forRoot(),
    ]);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('parses and every panel has at least one query', () => {
    const graphs = panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThanOrEqual(10);
    for (const panel of graphs) expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
  });

  it('queries only library series that the library really exports', async () => {
    const exported = new Set(
      (await app.get(RedisMetricsService).registry.getMetricsAsJSON()).map((metric) => metric.name),
    );
    const queried = new Set(panels.flatMap((p) => p.targets ?? []).flatMap((t) => librarySeries(t.expr)));
    expect(queried.size).toBeGreaterThanOrEqual(12);
    expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('covers the Redis exporter series operators watch', () => {
    const exprs = panels
      .flatMap((p) => p.targets ?? [])
      .map((t) => t.expr)
      .join('\n');
    for (const series of [
      'redis_memory_used_bytes',
      'redis_memory_max_bytes',
      'redis_evicted_keys_total',
      'redis_keyspace_hits_total',
      'redis_keyspace_misses_total',
      'redis_connected_clients',
      'redis_commands_duration_seconds_total',
      'redis_db_keys',
    ]) {
      expect(exprs).toContain(series);
    }
  });
});
