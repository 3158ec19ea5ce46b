import { afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { LockService, RedisOptionsError } from '@app/redis';
import { RedisTransportClient } from '@app/redis/transport';
import { RedisServerProcess, TcpProxy, bootRedisModule, eventually, startupError } from '@test/harness';

const keyPrefix = 'replica-durability:';
const PATTERN = 'durable.created';
const STREAM = `${keyPrefix}stream:{${PATTERN}}`;
const EMITS_BEFORE = 40;
const EMITS_CUT_OFF = 40;

/** A master and one replica that replicates through a `TcpProxy`, so the test can cut replication alone. */
async function masterWithReplica(): Promise<{
  master: RedisServerProcess;
  replica: RedisServerProcess;
  link: TcpProxy;
}> {
  const master = await RedisServerProcess.start();
  const link = await TcpProxy.start({ port: master.port });
  const replica = await RedisServerProcess.start({ args: ['--replicaof', '127.0.0.1', String(link.port)] });
  const admin = new Redis(master.url);
  try {
    const synced = await eventually(
      async () => /^slave0:.*state=online/m.test(await admin.info('replication')),
      15_000,
    );
    if (!synced) throw new Error('the replica did not sync');
  } finally {
    admin.disconnect();
  }
  return { master, replica, link };
}

/** Sequence numbers of the events stored in the stream on `server`. */
async function storedSeqs(server: RedisServerProcess): Promise<Set<number>> {
  const client = new Redis(server.url);
  try {
    const entries = await client.xrange(STREAM, '-', '+');
    return new Set(entries.map(([, fields]) => (JSON.parse(fields[1]) as { data: { seq: number } }).data.seq));
  } finally {
    client.disconnect();
  }
}

describe('streams emits and replica acknowledgement (streams.durability): master killed with unreplicated writes', () => {
  const servers: RedisServerProcess[] = [];
  const proxies: TcpProxy[] = [];
  const clients: RedisTransportClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    for (const proxy of proxies.splice(0)) await proxy.close();
    for (const server of servers.splice(0)) await server.stop();
  });

  /**
   * Emits EMITS_BEFORE events, cuts replication (black-holes the replica's link), emits EMITS_CUT_OFF more, kills
   * the master (SIGKILL) and promotes the replica, as a failover would. Returns what the emitter was told and what
   * the promoted replica holds.
   */
  async function failoverWithReplicationCut(durability?: { replicas: number; timeout: number }) {
    const { master, replica, link } = await masterWithReplica();
    servers.push(master, replica);
    proxies.push(link);
    const client = new RedisTransportClient({
      url: master.url,
      keyPrefix,
      mode: 'streams',
      ...(durability && { streams: { durability } }),
    });
    clients.push(client);
    await client.connect();
    const acknowledged: number[] = [];
    const rejected = new Map<string, number>();
    let slowestMs = 0;
    const emit = async (seq: number) => {
      const started = Date.now();
      try {
        await lastValueFrom(client.emit(PATTERN, { seq }));
        acknowledged.push(seq);
      } catch (error) {
        const code = (error as { code?: string }).code ?? String(error);
        rejected.set(code, (rejected.get(code) ?? 0) + 1);
      }
      slowestMs = Math.max(slowestMs, Date.now() - started);
    };
    let seq = 0;
    for (let i = 0; i < EMITS_BEFORE; i++) await emit(seq++);
    link.blackHole();
    for (let i = 0; i < EMITS_CUT_OFF; i++) await emit(seq++);
    await master.kill();
    const promoted = new Redis(replica.url);
    await promoted.replicaof('NO', 'ONE');
    promoted.disconnect();
    const kept = await storedSeqs(replica);
    const lost = acknowledged.filter((s) => !kept.has(s));
    return { acknowledged, rejected: Object.fromEntries(rejected), lost, keptOnReplica: kept.size, slowestMs };
  }

  it('without durability: the emits acknowledged after replication stopped are lost in the failover', async () => {
    const run = await failoverWithReplicationCut();
    process.stdout.write(
      `\n[fault] Streams emits, replication cut then master killed, no durability option\n  ${JSON.stringify({ ...run, acknowledged: run.acknowledged.length, lost: run.lost.length })}\n`,
    );
    expect(run.acknowledged).toHaveLength(EMITS_BEFORE + EMITS_CUT_OFF);
    // At least those: the last emits before the cut may not have reached the replica either (replication is asynchronous).
    expect(run.lost.length).toBeGreaterThanOrEqual(EMITS_CUT_OFF);
  });

  it('with durability { replicas: 1 }: those emits reject with E_TRANSPORT_NOT_REPLICATED, no acknowledged emit is lost', async () => {
    const run = await failoverWithReplicationCut({ replicas: 1, timeout: 200 });
    process.stdout.write(
      `\n[fault] Streams emits, replication cut then master killed, streams.durability { replicas: 1, timeout: 200 }\n  ${JSON.stringify({ ...run, acknowledged: run.acknowledged.length, lost: run.lost.length })}\n`,
    );
    expect(run.acknowledged).toHaveLength(EMITS_BEFORE);
    expect(run.rejected).toEqual({ E_TRANSPORT_NOT_REPLICATED: EMITS_CUT_OFF });
    expect(run.lost).toEqual([]);
    expect(run.slowestMs).toBeLessThan(5_000);
  });

  it('connect() fails naming the field when a master cannot honour the option (no replica; fsync before Redis 7.2)', async () => {
    const alone = await RedisServerProcess.start();
    servers.push(alone);
    const admin = new Redis(alone.url);
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))![1];
    admin.disconnect();

    const noReplica = new RedisTransportClient({
      url: alone.url,
      mode: 'streams',
      streams: { durability: { replicas: 1 } },
    });
    clients.push(noReplica);
    const error = await noReplica.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RedisOptionsError);
    expect((error as RedisOptionsError).field).toBe('streams.durability.replicas');
    expect((error as Error).message).toContain('has 0 connected replica(s)');

    const { master, replica, link } = await masterWithReplica();
    servers.push(master, replica);
    proxies.push(link);
    const fsync = new RedisTransportClient({
      url: master.url,
      mode: 'streams',
      streams: { durability: { replicas: 1, fsync: true } },
    });
    clients.push(fsync);
    const fsyncError = await fsync.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    process.stdout.write(
      `\n[fault] streams.durability checks on Redis ${version}: ${(error as Error).message} | ${String((fsyncError as Error | undefined)?.message)}\n`,
    );
    const [major, minor] = version.split('.').map(Number);
    if (major > 7 || (major === 7 && minor >= 2)) {
      expect(fsyncError).toBeUndefined();
    } else {
      expect(fsyncError).toBeInstanceOf(RedisOptionsError);
      expect((fsyncError as RedisOptionsError).field).toBe('streams.durability.fsync');
      expect((fsyncError as Error).message).toContain(`runs Redis ${version}`);
    }
  });

  it('rejects a malformed option at construction, naming the field', () => {
    const make = (durability: unknown) => () =>
      new RedisTransportClient({ url: 'redis://127.0.0.1:1', mode: 'streams', streams: { durability } as never });
    expect(make({})).toThrow('"streams.durability.replicas"');
    expect(make({ replicas: 0 })).toThrow('"streams.durability.replicas"');
    expect(make({ replicas: 1, timeout: -1 })).toThrow('"streams.durability.timeout"');
    expect(make({ replicas: 1, fsync: 'yes' })).toThrow('"streams.durability.fsync"');
    expect(make({ replicas: 1, wait: 1 })).toThrow('streams.durability');
  });

  it('lock.durability { replicas: 1 }: grants wait for the replica; with replication cut, acquire fails closed and releases the grant', async () => {
    const { master, replica, link } = await masterWithReplica();
    servers.push(master, replica);
    proxies.push(link);
    const app = await bootRedisModule({
      url: master.url,
      keyPrefix,
      lock: { durability: { replicas: 1, timeout: 200 } },
    });
    const locks = app.get(LockService);
    try {
      const replicated = await locks.acquire('durable');
      await replicated.release();
      link.blackHole();
      const started = Date.now();
      const error = await locks.acquire('durable').then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      const failedAfterMs = Date.now() - started;
      const observer = new Redis(master.url);
      const leftInRedis = await observer.exists(`${keyPrefix}lock:{durable}`);
      observer.disconnect();
      process.stdout.write(
        `\n[fault] lock.durability, replication cut: ${JSON.stringify({ code: error?.code, failedAfterMs, leftInRedis })}\n`,
      );
      expect(error?.code).toBe('E_LOCK_NOT_REPLICATED');
      expect(leftInRedis).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('lock.durability: startup fails naming the field without a replica, or with fsync before Redis 7.2; malformed values are refused', async () => {
    const alone = await RedisServerProcess.start();
    servers.push(alone);
    const admin = new Redis(alone.url);
    const version = /redis_version:(\S+)/.exec(await admin.info('server'))![1];
    admin.disconnect();
    const error = await startupError(() => bootRedisModule({ url: alone.url, lock: { durability: { replicas: 1 } } }));
    expect((error as RedisOptionsError).field).toBe('lock.durability.replicas');
    expect(error.message).toContain('has 0 connected replica(s)');
    const [major, minor] = version.split('.').map(Number);
    if (major < 7 || (major === 7 && minor < 2)) {
      const fsyncError = await startupError(() =>
        bootRedisModule({ url: alone.url, lock: { durability: { replicas: 1, fsync: true } } }),
      );
      expect((fsyncError as RedisOptionsError).field).toBe('lock.durability.fsync');
      expect(fsyncError.message).toContain(`runs Redis ${version}`);
    }
    const malformed = async (lock: unknown) =>
      (await startupError(() => bootRedisModule({ url: alone.url, lock: lock as never }))).message;
    expect(await malformed({ durability: { replicas: 0 } })).toContain('"lock.durability.replicas"');
    expect(await malformed({ durability: { replicas: 1, timeout: 0 } })).toContain('"lock.durability.timeout"');
    expect(await malformed({ durability: { replicas: 1 }, nodes: [alone.url] })).toContain('"lock.durability"');
  });
});
