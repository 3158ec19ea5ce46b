import type { INestApplicationContext } from '@nestjs/common';
import { LockService } from '@app/redis';

/** One critical section: who held it, from when to when (`performance.now()`, one clock for every contender). */
export interface Section {
  holder: string;
  from: number;
  to: number;
  /** The lock's fencing token, and how long its validity had left (ms) when the section began. */
  fence: number;
  validForMs: number;
}

/**
 * Contenders for one lock, each from its own app (one behind the fault, one not), each looping acquire → short
 * critical section → release, recording every section on the same clock so a test can check none overlapped.
 */
export class LockSections {
  readonly sections: Section[] = [];
  readonly acquired = new Map<string, number>();
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(contenders: Record<string, INestApplicationContext>, resource: string) {
    this.loops = Object.entries(contenders).map(async ([holder, app]) => {
      const locks = app.get(LockService);
      this.acquired.set(holder, 0);
      while (this.running) {
        try {
          const lock = await locks.acquire(resource, { waitTimeout: 500, ttl: 1_000 });
          const from = performance.now();
          const validForMs = lock.expiresAt - Date.now();
          await new Promise((resolve) => setTimeout(resolve, 30));
          this.sections.push({ holder, from, to: performance.now(), fence: lock.fencingToken, validForMs });
          this.acquired.set(holder, (this.acquired.get(holder) ?? 0) + 1);
          await lock.release().catch(() => undefined); // a release lost in the fault: the ttl frees the lock
        } catch {
          // Not acquired (fail closed): try again.
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });
  }

  /** Pairs of sections that overlapped in time (should be none). */
  overlaps(): [Section, Section][] {
    const sorted = [...this.sections].sort((a, b) => a.from - b.from);
    const found: [Section, Section][] = [];
    let latest: Section | undefined; // the section ending last among those started so far
    for (const section of sorted) {
      if (latest && section.from < latest.to) found.push([latest, section]);
      if (!latest || section.to > latest.to) latest = section;
    }
    return found;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
