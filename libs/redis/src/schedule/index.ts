export { RedisScheduleModule } from './redis-schedule.module.js';
export { OncePerCluster } from './once-per-cluster.decorator.js';
export type { OncePerClusterOptions } from './once-per-cluster-options.interface.js';
export { ClusterTicks } from './cluster-ticks.js';
export type { ClusterTick } from './cluster-tick.interface.js';
