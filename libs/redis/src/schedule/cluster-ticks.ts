import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import type { ClusterTick } from './cluster-tick.interface.js';

/**
 * Which tick the current call chain runs for `@OncePerCluster` (one store per application, not per process).
 *
 * @example
 * ```ts
 * @OncePerCluster()
 * @Cron('0 * * * * *')
 * async reconcile(): Promise<void> {
 *   const run = this.ticks.current();
 *   await this.counters.reconcile({ asOf: run?.tick, fencingToken: run?.lock.fencingToken });
 * }
 * ```
 */
@Injectable()
export class ClusterTicks {
  private readonly storage = new AsyncLocalStorage<ClusterTick>();

  /** The tick being run, inside a `@OncePerCluster` method (across awaits); `undefined` elsewhere. */
  current(): ClusterTick | undefined {
    return this.storage.getStore();
  }

  /** Internal (aspect): runs `work` with `tick` as the current tick. */
  run<T>(tick: ClusterTick, work: () => T): T {
    return this.storage.run(tick, work);
  }
}
