import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, ensurePrometheus, promtool } from './support/prometheus.js';

const RULES = 'deploy/prometheus/nest-redis-alerts.yml';
const RULE_TESTS = 'deploy/prometheus/nest-redis-alerts.test.yml';

/** Every `alert:` name of the rules file. */
function alertNames(file: string): string[] {
  return [...readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(/^\s+- alert: (\w+)$/gm)].map(([, name]) => name!);
}

/**
 * The alert rules shipped in deploy/prometheus, checked and unit-tested by the real promtool (Debian's Prometheus
 * 2.42, installed by src/dev-services/ensure-prometheus.sh when missing).
 */
describe('deploy/prometheus/nest-redis-alerts.yml (promtool)', () => {
  beforeAll(() => {
    ensurePrometheus();
  }, 300_000);

  it('passes promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', RULES]);
    expect(output).toContain('SUCCESS: 11 rules found');
    expect(status).toBe(0);
  });

  it('passes its promtool unit tests (promtool test rules), which cover every alert', () => {
    const { status, output } = promtool(['test', 'rules', RULE_TESTS]);
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
    const tested = new Set(
      [...readFileSync(join(REPO_ROOT, RULE_TESTS), 'utf8').matchAll(/alertname: (\w+)/g)].map(([, name]) => name),
    );
    expect(alertNames(RULES).filter((name) => !tested.has(name))).toEqual([]);
  });

  it('names the alerts an on-call engineer must hear about', () => {
    expect(alertNames(RULES)).toEqual(
      expect.arrayContaining([
        'RedisDown',
        'RedisMemoryNearMaxmemory',
        'RedisEvictingKeys',
        'NestRedisLockFailuresRising',
        'NestRedisDeadLettersGrowing',
        'NestRedisConsumerLagHigh',
        'NestRedisCacheFailingOpen',
        'NestRedisHandlerP99High',
      ]),
    );
  });
});
