import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type { CacheServedInfo } from './cache-options.interface.js';

/**
 * Internal: where cached calls report how they were served, for `CacheService.observe()` (AsyncLocalStorage, any
 * depth) and `observeCall()` (the calls started synchronously, no async hooks). README: the `Cache-Status` header.
 */
@Injectable()
export class CacheServedObserver {
  private readonly observers = new AsyncLocalStorage<CacheServedInfo[]>();
  /** The collector of the `observeCall()` running synchronously right now, if any. */
  private capturing: CacheServedInfo[] | undefined;

  /** Runs `fn` collecting every cached call made inside it, at any depth. */
  async observe<T>(fn: () => Promise<T> | T): Promise<{ value: T; served: CacheServedInfo[] }> {
    const served: CacheServedInfo[] = [];
    const value = await this.observers.run(served, fn);
    return { value, served };
  }

  /** Runs `fn` collecting the cached calls it starts before it first awaits. */
  async observeCall<T>(fn: () => Promise<T> | T): Promise<{ value: T; served: CacheServedInfo[] }> {
    const served: CacheServedInfo[] = [];
    const outer = this.capturing;
    this.capturing = served;
    let pending: Promise<T> | T;
    try {
      pending = fn();
    } finally {
      this.capturing = outer;
    }
    return { value: await pending, served };
  }

  /** The collector of the `observeCall()` or `observe()` the current call runs in, if any. */
  current(): CacheServedInfo[] | undefined {
    return this.capturing ?? this.observers.getStore();
  }

  /** Records a call that bypassed the cache (a decorator's `condition` said no, or its key could not be built). */
  recordBypass(name: string, key: string): void {
    this.current()?.push({ name, key, status: 'bypass', ageMs: 0 });
  }
}
