import type { Lock } from '../lock/lock.interface.js';

/** The tick a `@OncePerCluster` method is running, as `ClusterTicks.current()` returns it inside the method. */
export interface ClusterTick {
  /** The job's name in Redis. */
  readonly job: string;
  /** Start of the tick (epoch ms): the scheduled fire time, or the start of its `period` window. */
  readonly tick: number;
  /** The job's lock, held for this run: `fencingToken` increases from tick to tick, `signal` aborts if it is lost. */
  readonly lock: Lock;
}
