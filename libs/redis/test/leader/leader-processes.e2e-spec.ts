import { afterAll, describe, expect, it } from '@jest/globals';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REDIS_URL, uniqueKeyPrefix, useTestApps } from '@test/harness';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/leader-worker.ts', import.meta.url));
const keyPrefix = uniqueKeyPrefix('leader-processes');
const TTL = 2_000;
/** A candidate's fallback poll (retryDelay + retryJitter of the fixture). */
const POLL = 75;
// The system clock every process shares (`performance.timeOrigin` is fixed per process, off by up to a millisecond).
const now = () => Date.now();

interface Change {
  event: 'gained' | 'lost';
  fence: number;
  at: number;
  pid: number;
}

/** A candidate process and the leadership changes it reported. */
class Candidate {
  readonly changes: Change[] = [];
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, newline)) as Change | { event: 'ready' };
        buffer = buffer.slice(newline + 1);
        if (line.event !== 'ready') this.changes.push(line as Change);
        this.waiters.splice(0).forEach((wake) => wake());
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get isLeader(): boolean {
    return this.changes.at(-1)?.event === 'gained';
  }

  /** Resolves on the next line printed. */
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

async function startCandidate(): Promise<Candidate> {
  const child = spawn(
    process.execPath,
    ['--import', './src/runtime/register.mjs', fixture, REDIS_URL, keyPrefix, String(TTL)],
    { cwd: repoRoot },
  );
  const candidate = new Candidate(child);
  await candidate.next();
  return candidate;
}

/** Waits until one of `candidates` leads (polling what they reported) and returns it. */
async function leaderAmong(candidates: Candidate[], timeoutMs: number): Promise<Candidate> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leaders = candidates.filter((c) => c.isLeader);
    if (leaders.length === 1) return leaders[0];
    if (leaders.length > 1) throw new Error(`${leaders.length} leaders at once`);
    if (Date.now() > deadline) throw new Error('no leader');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('LeaderService across OS processes (3 candidates, lease ttl 2 s)', () => {
  const testApps = useTestApps(keyPrefix);
  const candidates: Candidate[] = [];

  afterAll(async () => {
    for (const candidate of candidates) candidate.child.kill('SIGKILL');
    await Promise.all(candidates.map((c) => c.exited));
  });

  it('one leader; SIGKILL → a new leader once the lease expires, within the ttl; SIGTERM → hand-over within 1 s; fencing tokens increase', async () => {
    candidates.push(...(await Promise.all([1, 2, 3].map(() => startCandidate()))));
    const first = await leaderAmong(candidates, 10_000);

    // Crash: the lease is left to expire.
    first.child.kill('SIGKILL');
    const killedAt = now();
    await first.exited;
    const pttl = await testApps.redis.pttl(`${keyPrefix}lock:{leader:primary}`);
    const leaseEnds = now() + pttl;
    const survivors = candidates.filter((c) => c !== first);
    const second = await leaderAmong(survivors, TTL + 5_000);
    const secondGained = second.changes.at(-1) as Change;
    // Not before the crashed leader's lease expired (safety), and within one lease ttl of the crash (+ one poll).
    expect(secondGained.at).toBeGreaterThanOrEqual(leaseEnds - 5);
    expect(secondGained.at - killedAt).toBeLessThanOrEqual(TTL + POLL + 100);

    // Graceful shutdown: the lease is handed over at once.
    second.child.kill('SIGTERM');
    const terminatedAt = now();
    const third = await leaderAmong(
      survivors.filter((c) => c !== second),
      5_000,
    );
    const thirdGained = third.changes.at(-1) as Change;
    const handOverMs = thirdGained.at - terminatedAt;
    process.stderr.write(
      `leader: crash takeover ${Math.round(secondGained.at - killedAt)} ms (ttl ${TTL}), graceful hand-over ${Math.round(handOverMs)} ms\n`,
    );
    expect(handOverMs).toBeLessThanOrEqual(1_000);
    await second.exited;
    expect(second.changes.at(-1)?.event).toBe('lost');

    const gains = candidates
      .flatMap((c) => c.changes)
      .filter((c) => c.event === 'gained')
      .sort((a, b) => a.at - b.at);
    expect(gains).toHaveLength(3);
    expect(gains.map((g) => g.fence)).toEqual([...gains.map((g) => g.fence)].sort((a, b) => a - b));
    expect(new Set(gains.map((g) => g.fence)).size).toBe(3);
  }, 60_000);
});
