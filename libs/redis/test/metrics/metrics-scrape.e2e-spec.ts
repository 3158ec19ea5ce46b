import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import request from 'supertest';
import { CacheService, LockService, RedisModule } from '@app/redis';
import { RedisMetricsModule } from '@app/redis/metrics';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { RedisServerProcess, eventually, silentLogger, uniqueKeyPrefix } from '@test/harness';

const password = 'metrics-scrape-secret-pw';
const prefix = 'scrape_redis_';
const pattern = 'metrics-scrape.booked';
const group = 'metrics-scrape';

/** Every sample of the exposition text, keyed by `name{sorted labels}`. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels = (match[2] ?? '')
      .split(/,(?=\w+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    samples.set(`${match[1]}{${labels}}`, Number(match[3]));
  }
  return samples;
}

/** `name{k="v",…}` with labels sorted, as `parseExposition` keys samples. */
function series(name: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  return `${prefix}${name}{${pairs.join(',')}}`;
}

@Controller()
class BookedEventsController {
  @EventPattern(pattern)
  onBooked(data: { i: number }): number {
    return data.i;
  }
}

/** `/metrics` served by `RedisMetricsModule.forRoot({ path })`: the module's cache counters need no wiring. */
describe('GET /metrics (scraped and parsed)', () => {
  let node: RedisServerProcess;
  let app: INestApplication;
  let client: RedisTransportClient;
  let keyPrefix: string;

  const scrape = async () => {
    const response = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(response.text).not.toContain(password);
    return parseExposition(response.text);
  };

  beforeAll(async () => {
    node = await RedisServerProcess.start({ args: ['--requirepass', password] });
    const url = `redis://:${password}@127.0.0.1:${node.port}`;
    keyPrefix = uniqueKeyPrefix('metrics-scrape');
    const moduleRef = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ url, keyPrefix }), RedisMetricsModule.forRoot({ prefix, path: '/metrics' })],
      controllers: [BookedEventsController],
    })
      .setLogger(silentLogger)
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.connectMicroservice({ strategy: RedisTransportServer.fromApp(app, { mode: 'streams', streams: { group } }) });
    await app.startAllMicroservices();
    await app.init();
    client = new RedisTransportClient({ url, keyPrefix, mode: 'streams' });
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await node?.stop();
  });

  it('counters rise by exactly the cache hits, lock acquisitions and handled events of the test', async () => {
    const hits = series('cache_hits_total', { cache: 'scrape' });
    const misses = series('cache_misses_total', { cache: 'scrape' });
    const acquired = series('lock_acquisitions_total', { mode: 'single' });
    const handled = series('transport_messages_handled_total', { pattern, mode: 'streams' });
    const before = await scrape();
    const value = (samples: Map<string, number>, key: string) => samples.get(key) ?? 0;

    const cache = app.get(CacheService);
    const loader = () => ({ seats: 3 });
    for (let i = 0; i < 6; i++) await cache.wrap('venue:1', loader, { name: 'scrape', ttl: 60_000 });
    const locks = app.get(LockService);
    for (let i = 0; i < 3; i++) await locks.using(`slot:${i}`, { ttl: 2_000 }, () => undefined);
    for (let i = 0; i < 4; i++) await lastValueFrom(client.emit(pattern, { i }));

    expect(await eventually(async () => value(await scrape(), handled) - value(before, handled) === 4, 5_000)).toBe(
      true,
    );
    const after = await scrape();
    expect(value(after, hits) - value(before, hits)).toBe(5);
    expect(value(after, misses) - value(before, misses)).toBe(1);
    expect(value(after, acquired) - value(before, acquired)).toBe(3);
    expect(value(after, handled) - value(before, handled)).toBe(4);
    expect(value(after, series('lock_wait_seconds_count', { mode: 'single', outcome: 'acquired' }))).toBe(
      value(before, series('lock_wait_seconds_count', { mode: 'single', outcome: 'acquired' })) + 3,
    );
  });

  it('reports the consumer lag of the streams server that fromApp registered with the metrics service', async () => {
    expect((await scrape()).get(series('transport_consumer_lag', { stream: pattern, group }))).toBe(0);
  });
});
