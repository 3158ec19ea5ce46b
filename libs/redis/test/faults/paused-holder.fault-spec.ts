import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { LockService, RedisModule } from '@app/redis';
import { LeaderService, RedisLeaderModule } from '@app/redis/leader';
import { RedisSemaphoreModule, SemaphoreService } from '@app/redis/semaphore';
import { RedisServerProcess, silentLogger } from '@test/harness';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/paused-holder.ts', import.meta.url));
const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** A schema of this file's own, so the table cannot clash with the demo's. */
const SCHEMA = 'faults_paused_holder';
const postgresUrl = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=-c%20search_path%3D${SCHEMA}`;
const keyPrefix = 'paused-holder:';
const TTL = 1_000;
/** How long the holder stays stopped: well past its ttl, long enough for the rival to take over and write. */
const PAUSE_MS = 3 * TTL;

type Kind = 'lock' | 'semaphore' | 'leader';

interface Resumed {
  fence: number;
  workedMs: number;
  abortedOnResume: boolean;
  abortedAfterNextCall: boolean;
  abortedAfterNextCallViaGetter: boolean;
  reason: string | null;
  staleWriteAccepted: boolean;
}

/** Spawns the holder, resolves once it holds, and gives access to its next JSON line. */
function startHolder(kind: Kind, redisUrl: string, resource: string, workMs: number) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      './src/runtime/register.mjs',
      fixture,
      kind,
      redisUrl,
      keyPrefix,
      resource,
      String(TTL),
      String(workMs),
      postgresUrl,
    ],
    { cwd: repoRoot },
  );
  let buffer = '';
  let stderr = '';
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>);
      buffer = buffer.slice(newline + 1);
      waiters.splice(0).forEach((wake) => wake());
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = async (event: string, timeoutMs: number): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find((l) => l.event === event);
      if (found) return found;
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`holder printed no "${event}" within ${timeoutMs} ms: ${stderr}`);
      }
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  return { child, line, exited };
}

describe('the paused holder: a holder SIGSTOPped past its ttl, a rival takes over and writes, the holder resumes', () => {
  let redis: RedisServerProcess;
  let db: pg.Client;
  let rival: INestApplicationContext;
  const results: Array<{ kind: Kind; workMs: number; resumed: Resumed; rivalFence: number }> = [];

  beforeAll(async () => {
    redis = await RedisServerProcess.start();
    db = new pg.Client({ connectionString: POSTGRES_URL });
    await db.connect();
    await db.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${SCHEMA}.fenced_writes (resource text PRIMARY KEY, fence bigint NOT NULL, writer text NOT NULL)`,
    );
    await db.query(`TRUNCATE ${SCHEMA}.fenced_writes`);
    @Module({ imports: [RedisModule.forRoot({ url: redis.url, keyPrefix }), RedisSemaphoreModule] })
    class RivalModule {}
    rival = await NestFactory.createApplicationContext(RivalModule, { logger: silentLogger });
    await rival.init();
  });

  afterAll(async () => {
    process.stdout.write(
      `\n[fault] Paused holder (SIGSTOP ${PAUSE_MS} ms, ttl ${TTL} ms)\n` +
        results
          .map(
            (r) =>
              `  ${r.kind.padEnd(9)} work ${String(r.workMs).padStart(4)} ms: ${JSON.stringify({ ...r.resumed, rivalFence: r.rivalFence })}`,
          )
          .join('\n') +
        `\n  stale writes accepted: ${results.filter((r) => r.resumed.staleWriteAccepted).length} of ${results.length}\n`,
    );
    await rival?.close();
    await db?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await db?.end();
    await redis?.stop();
  });

  /** The rival's guarded write: accepted only if its token is above every token written before. */
  async function fencedWrite(resource: string, fence: number, writer: string): Promise<boolean> {
    const result = await db.query(
      `INSERT INTO ${SCHEMA}.fenced_writes (resource, fence, writer) VALUES ($1, $2, $3)
       ON CONFLICT (resource) DO UPDATE SET fence = EXCLUDED.fence, writer = EXCLUDED.writer
       WHERE fenced_writes.fence < EXCLUDED.fence`,
      [resource, fence, writer],
    );
    return result.rowCount === 1;
  }

  /** The rival takes the resource once the paused holder's ttl ran out; resolves with its fencing token. */
  async function takeOver(kind: Kind, resource: string): Promise<{ fence: number; done: () => Promise<void> }> {
    if (kind === 'lock') {
      const lock = await rival.get(LockService).acquire(resource, { ttl: 10_000, waitTimeout: PAUSE_MS });
      return { fence: lock.fencingToken, done: async () => void (await lock.release()) };
    }
    if (kind === 'semaphore') {
      const permit = await rival
        .get(SemaphoreService)
        .acquire(resource, { permits: 1, ttl: 10_000, waitTimeout: PAUSE_MS });
      return { fence: permit.fencingToken, done: async () => void (await permit.release()) };
    }
    @Module({
      imports: [
        RedisModule.forRoot({ url: redis.url, keyPrefix }),
        RedisLeaderModule.forRoot({ elections: [resource], ttl: 10_000, retryDelay: 50, retryJitter: 25 }),
      ],
    })
    class CandidateModule {}
    const candidate = await NestFactory.createApplicationContext(CandidateModule, { logger: silentLogger });
    await candidate.init();
    const leader = candidate.get(LeaderService);
    const deadline = Date.now() + PAUSE_MS;
    while (!leader.isLeader(resource) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (!leader.isLeader(resource)) throw new Error('the rival candidate never led');
    return { fence: leader.fencingToken(resource)!, done: () => candidate.close() };
  }

  const cases: Array<[Kind, number]> = [
    // The work's timer is due before the lease's renewal (ttl / 3 after arming): on resume the holder's code runs
    // first and makes its library call before any watchdog timer fired.
    ['lock', 100],
    // The renewal is due first: the watchdog finds the validity over as soon as the process resumes.
    ['lock', 1_500],
    ['semaphore', 100],
    ['semaphore', 1_500],
    ['leader', 100],
    ['leader', 1_500],
  ];

  it.each(cases)(
    '%s, work of %i ms paused: signal aborted before the next library call returns; the stale write is refused by the fencing token',
    async (kind, workMs) => {
      const resource = `${kind}-${workMs}`;
      const holder = startHolder(kind, redis.url, resource, workMs);
      const held = await holder.line('held', 30_000);
      // The holder stops itself right after printing.
      const stoppedAt = Date.now();
      const takeover = await takeOver(kind, resource);
      const rivalWrote = await fencedWrite(`${kind}:${resource}`, takeover.fence, 'rival');
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, stoppedAt + PAUSE_MS - Date.now())));
      holder.child.kill('SIGCONT');
      const resumed = (await holder.line('resumed', 30_000)) as unknown as Resumed;
      expect(await holder.exited).toBe(0);
      await takeover.done();
      results.push({ kind, workMs, resumed, rivalFence: takeover.fence });
      const row = await db.query(`SELECT fence, writer FROM ${SCHEMA}.fenced_writes WHERE resource = $1`, [
        `${kind}:${resource}`,
      ]);

      expect(rivalWrote).toBe(true);
      expect(takeover.fence).toBeGreaterThan(held.fence as number);
      expect(resumed.workedMs).toBeGreaterThanOrEqual(PAUSE_MS - 100);
      expect(resumed.abortedAfterNextCall).toBe(true);
      expect(resumed.reason).toMatch(/LockLostError|LeadershipLostError/);
      expect(resumed.staleWriteAccepted).toBe(false);
      expect(row.rows).toEqual([{ fence: String(takeover.fence), writer: 'rival' }]);
    },
  );
});
