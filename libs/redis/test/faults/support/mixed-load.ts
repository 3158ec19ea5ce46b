import type { INestApplicationContext } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { CacheService, LockService } from '@app/redis';
import type { RedisTransportClient } from '@app/redis/transport';

export type OperationKind = 'cache' | 'lock' | 'emit' | 'send';

/** One operation of the load: when it ended, how long it took, and whether the caller got an error. */
interface Outcome {
  kind: OperationKind;
  ok: boolean;
  endedAt: number;
  ms: number;
  error?: string;
}

/** Per kind: operations, failures, the slowest call, and when the first success came after `since`. */
export interface KindReport {
  ok: number;
  failed: number;
  failedInWindow: number;
  slowestMs: number;
  recoveredAfterMs: number | null;
  errors: string[];
}

export interface MixedLoadTargets {
  app: INestApplicationContext;
  client: RedisTransportClient;
  streamsClient: RedisTransportClient;
  /** Pattern of a request handler summing its payload. */
  sendPattern: string;
  /** Pattern of a durable (streams) event handler. */
  emitPattern: string;
}

/**
 * Longest any single call may take before the load counts it as hung (a caller that never returns): the 10 s outage
 * plus the transport's largest reconnect delay (5 s) plus a margin. Every call has a deadline of its own well below
 * it (a durable emit `emitTimeout`, 10 s by default); what must never happen is a call that outlives the outage and
 * the reconnection.
 */
export const HANG_LIMIT_MS = 20_000;

/**
 * Steady load of cache reads-through, lock acquire/release, durable emits and request/reply, each kind in its own
 * loop (one call at a time, 20 ms apart), recording every outcome. Durable emits carry a sequence number; those
 * Redis acknowledged are listed in `acknowledged`, so a test can check none was lost.
 */
export class MixedLoad {
  readonly outcomes: Outcome[] = [];
  readonly acknowledged = new Set<number>();
  private running = true;
  private loops: Promise<void>[] = [];
  private seq = 0;

  constructor(private readonly targets: MixedLoadTargets) {}

  start(): void {
    const { app, client, streamsClient, sendPattern, emitPattern } = this.targets;
    const cache = app.get(CacheService);
    const locks = app.get(LockService);
    let i = 0;
    this.loops = [
      this.loop('cache', async () => {
        const key = `item:${i++ % 20}`;
        const value = await cache.wrap(key, () => ({ key }), { ttl: 500 });
        if (value.key !== key) throw new Error('cache returned another key’s value');
      }),
      this.loop('lock', async () => {
        const lock = await locks.acquire(`slot:${i % 5}`, { waitTimeout: 500, ttl: 2_000 });
        await lock.release();
      }),
      this.loop('emit', async () => {
        const seq = this.seq++;
        await lastValueFrom(streamsClient.emit(emitPattern, { seq }));
        this.acknowledged.add(seq);
      }),
      this.loop('send', async () => {
        if ((await lastValueFrom(client.send<number>(sendPattern, [1, 2]))) !== 3) throw new Error('wrong sum');
      }),
    ];
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** The report of each kind; failures counted between `from` and `to`, recovery measured from `to`. */
  report(from: number, to: number): Record<OperationKind, KindReport> {
    const kinds: OperationKind[] = ['cache', 'lock', 'emit', 'send'];
    return Object.fromEntries(
      kinds.map((kind) => {
        const mine = this.outcomes.filter((o) => o.kind === kind);
        const failures = mine.filter((o) => !o.ok);
        const recovered = mine.find((o) => o.ok && o.endedAt - o.ms >= to);
        return [
          kind,
          {
            ok: mine.length - failures.length,
            failed: failures.length,
            failedInWindow: failures.filter((o) => o.endedAt >= from && o.endedAt - o.ms <= to + 30_000).length,
            slowestMs: Math.max(0, ...mine.map((o) => o.ms)),
            recoveredAfterMs: recovered ? recovered.endedAt - to : null,
            errors: [...new Set(failures.map((o) => o.error ?? ''))].slice(0, 5),
          },
        ];
      }),
    ) as Record<OperationKind, KindReport>;
  }

  private async loop(kind: OperationKind, operation: () => Promise<void>): Promise<void> {
    while (this.running) {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`hung for ${HANG_LIMIT_MS} ms`)), HANG_LIMIT_MS);
      });
      try {
        await Promise.race([operation(), hung]);
        this.outcomes.push({ kind, ok: true, endedAt: Date.now(), ms: Date.now() - started });
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.outcomes.push({ kind, ok: false, endedAt: Date.now(), ms: Date.now() - started, error: message });
      } finally {
        clearTimeout(timer);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
