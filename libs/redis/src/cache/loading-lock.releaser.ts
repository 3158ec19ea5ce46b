import { Inject, Injectable } from '@nestjs/common';
import type { ResolvedCacheOptions } from './cache-options.interface.js';
import { REDIS_CACHE_OPTIONS } from './cache.constants.js';
import { CacheStack } from './cache.stack.js';

/** Only grows while Redis stays unreachable or too slow; past this size, expired locks are dropped first. */
const MAX_KEPT = 1_024;

/**
 * Internal: gives back the cross-replica loading locks this process took (README: "Stampede protection"). A lock
 * is released and the waiting replicas woken as soon as the load stored its value, gave up or failed. When Redis
 * cannot be reached at that moment, the lock is kept here and released as soon as the connection is ready again,
 * so other replicas' misses do not wait for `lockTtl` (a lock survives a restart with persistence, or a failover
 * on the promoted replica).
 */
@Injectable()
export class LoadingLockReleaser {
  /** Entry key → token and when the lock expires anyway. */
  private readonly orphaned = new Map<string, { token: string; expiresAt: number }>();
  private readonly releaseOrphaned = (): void => {
    const now = Date.now();
    for (const [entryKey, { token, expiresAt }] of this.orphaned) {
      if (expiresAt > now) void this.release(entryKey, token, false);
    }
    this.orphaned.clear();
  };

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly stack: CacheStack,
  ) {
    stack.store.client.on('ready', this.releaseOrphaned);
  }

  /**
   * Releases this caller's loading lock and wakes the replicas waiting for it; keeps it for a retry on reconnect
   * when Redis cannot be reached (`retry`).
   */
  async release(entryKey: string, token: string, retry = true): Promise<void> {
    try {
      await this.stack.store.release(entryKey, token);
      await this.stack.announce([entryKey]);
    } catch {
      if (retry && !this.stack.destroyed) this.keep(entryKey, token);
    }
  }

  /** Shutdown: stops listening for reconnects. */
  stop(): void {
    this.stack.store.client.off('ready', this.releaseOrphaned);
  }

  private keep(entryKey: string, token: string): void {
    const now = Date.now();
    if (this.orphaned.size >= MAX_KEPT) {
      for (const [key, lock] of this.orphaned) if (lock.expiresAt <= now) this.orphaned.delete(key);
    }
    this.orphaned.set(entryKey, { token, expiresAt: now + this.options.lockTtl });
  }
}
