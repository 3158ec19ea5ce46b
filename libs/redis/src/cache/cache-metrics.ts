import { Injectable } from '@nestjs/common';
import type { CacheCounters } from './cache-options.interface.js';

/**
 * Counters per cache name (a decorated method's `Class.method`, or the `name` given to `CacheService.wrap()`):
 * hits, misses, stale serves, loads and errors since startup. Read by the metrics exporter with `snapshot()`.
 */
@Injectable()
export class CacheMetrics {
  private readonly counters = new Map<string, CacheCounters>();

  /** The live counters of `name` (created at zero on first use). */
  for(name: string): CacheCounters {
    let counters = this.counters.get(name);
    if (counters === undefined) {
      counters = { hits: 0, misses: 0, stale: 0, loads: 0, errors: 0 };
      this.counters.set(name, counters);
    }
    return counters;
  }

  /** A copy of every name's counters. */
  snapshot(): Record<string, CacheCounters> {
    const out: Record<string, CacheCounters> = {};
    for (const [name, counters] of this.counters) out[name] = { ...counters };
    return out;
  }
}
