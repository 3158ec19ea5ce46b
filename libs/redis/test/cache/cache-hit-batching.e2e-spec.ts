import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { CacheService, RedisModule, getRedisConnectionToken, type RedisClient } from '@app/redis';
import {
  type RedisTopology,
  type RunningTopology,
  bootstrapTestingApp,
  redisCluster,
  singleNode,
  uniqueKeyPrefix,
} from '@test/harness';

/** How many times the servers ran the given commands so far (INFO commandstats, summed over every master). */
async function commandCalls(running: RunningTopology, names: string[]): Promise<number> {
  let total = 0;
  for (const node of running.masterClients()) {
    const info = await node.info('commandstats');
    for (const name of names) total += Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  }
  return total;
}

/** GETs and scripts the servers ran while `action` ran (the servers are this suite's own). */
async function countReads(running: RunningTopology, action: () => Promise<unknown>) {
  const before = await Promise.all([commandCalls(running, ['get']), commandCalls(running, ['evalsha', 'eval'])]);
  await action();
  const after = await Promise.all([commandCalls(running, ['get']), commandCalls(running, ['evalsha', 'eval'])]);
  return { gets: after[0] - before[0], scripts: after[1] - before[1] };
}

/**
 * Commands handed to the connection so far: ioredis' queue of commands awaiting a reply, summed over the nodes of
 * a Cluster (read before the reply can arrive, it counts what was sent).
 */
function sentCommands(client: RedisClient): number {
  const clients = 'nodes' in client ? client.nodes('master') : [client];
  return clients.reduce(
    (sum, node) => sum + (node as unknown as { commandQueue: { length: number } }).commandQueue.length,
    0,
  );
}

function hitBatchingSuite(topology: RedisTopology): void {
  describe(`cache hits of one event-loop turn on ${topology.name}`, () => {
    const prefix = uniqueKeyPrefix('cache-hit-batching');
    let running: RunningTopology;
    let app: INestApplicationContext;
    let cache: CacheService;
    // 30 keys sharing the hash tag {venue-1}, 30 sharing {venue-2}: two slots.
    const keys = [
      ...Array.from({ length: 30 }, (_x, i) => `{venue-1}:room:${i}`),
      ...Array.from({ length: 30 }, (_x, i) => `{venue-2}:room:${i}`),
    ];
    const loads: string[] = [];
    const wrap = (key: string) =>
      cache.wrap(key, () => {
        loads.push(key);
        return { key };
      });

    beforeAll(async () => {
      running = await topology.start();
      app = await bootstrapTestingApp([
        RedisModule.forRoot({ ...running.connection, keyPrefix: prefix, cache: { ttl: 60_000 } }),
      ]);
      cache = app.get(CacheService);
      await cache.setMany(keys.map((key) => ({ key, value: { key } })));
      // Loads the script on every node, so the counted calls are EVALSHA only.
      await Promise.all(keys.map(wrap));
    }, 60_000);

    afterAll(async () => {
      await app?.close();
      await running?.stop();
    });

    it('60 hits started in one turn are read with one script per hash slot, each decoded into its own value', async () => {
      let values: unknown[] = [];
      const counted = await countReads(running, async () => (values = await Promise.all(keys.map(wrap))));
      expect(values).toEqual(keys.map((key) => ({ key })));
      // commandstats counts the GETs run inside a script too: 60 GETs within 1 (or 2) scripts, no GET of its own.
      expect(counted).toEqual({ gets: keys.length, scripts: topology.masters === 1 ? 1 : 2 });
      expect(loads).toEqual([]);
    });

    it('a turn of 300 hits on one slot is cut into commands of at most 256 reads', async () => {
      const many = Array.from({ length: 300 }, (_x, i) => `{venue-3}:seat:${i}`);
      await cache.setMany(many.map((key) => ({ key, value: { key } })));
      // Loads the script on the node of {venue-3} (a first EVALSHA there would be a NOSCRIPT, then an EVAL).
      await Promise.all(many.map(wrap));
      let values: unknown[] = [];
      const counted = await countReads(running, async () => (values = await Promise.all(many.map(wrap))));
      expect(values).toEqual(many.map((key) => ({ key })));
      expect(counted).toEqual({ gets: 300, scripts: 2 });
    });

    it('a lone hit is one GET, handed to the connection within the turn it was made (no setImmediate, no timer)', async () => {
      const client = app.get<RedisClient>(getRedisConnectionToken());
      const counted = await countReads(running, async () => {
        const before = sentCommands(client);
        const value = wrap(keys[0]!);
        // Queued after the cache's own flush and run before any I/O or setImmediate callback of this turn.
        const queuedThisTurn = await new Promise<number>((resolve) =>
          process.nextTick(() => resolve(sentCommands(client))),
        );
        expect(queuedThisTurn - before).toBe(1);
        expect(await value).toEqual({ key: keys[0] });
      });
      expect(counted).toEqual({ gets: 1, scripts: 0 });
    });

    it('20 misses started in one turn claim their loading locks with one script per hash slot', async () => {
      const cold = [
        ...Array.from({ length: 10 }, (_x, i) => `{venue-1}:new:${i}`),
        ...Array.from({ length: 10 }, (_x, i) => `{venue-2}:new:${i}`),
      ];
      // Loads the claim script on the nodes (a first EVALSHA there would be a NOSCRIPT, then an EVAL).
      await Promise.all(['{venue-1}:warm:a', '{venue-1}:warm:b', '{venue-2}:warm:a', '{venue-2}:warm:b'].map(wrap));
      loads.length = 0;
      const claims = () => commandCalls(running, ['evalsha', 'eval']);
      // The reads of the 20 keys (1 script per slot) then their claims (1 per slot), then the stores (1 each).
      const before = await claims();
      const values = await Promise.all(cold.map(wrap));
      const scripts = (await claims()) - before;
      expect(values).toEqual(cold.map((key) => ({ key })));
      expect([...loads].sort()).toEqual([...cold].sort());
      const slots = topology.masters === 1 ? 1 : 2;
      expect(scripts).toBe(slots + slots + cold.length);
    });

    it('hits and misses of one turn: the hits come from the batch, each miss runs its loader once', async () => {
      const cold = ['{venue-1}:cold:a', '{venue-2}:cold:b'];
      loads.length = 0;
      const values = await Promise.all([...keys.slice(0, 10), ...cold, ...keys.slice(40, 50)].map(wrap));
      expect(values).toEqual([...keys.slice(0, 10), ...cold, ...keys.slice(40, 50)].map((key) => ({ key })));
      expect([...loads].sort()).toEqual(cold);
      expect(await cache.getMany(cold)).toEqual(cold.map((key) => ({ key })));
    });
  });
}

hitBatchingSuite(singleNode);
hitBatchingSuite(redisCluster);
