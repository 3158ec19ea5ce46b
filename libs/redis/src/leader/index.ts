export { RedisLeaderModule } from './redis-leader.module.js';
export { LeaderService } from './leader.service.js';
export type { LeaderElectionOptions, LeaderModuleOptions } from './leader-options.interface.js';
export type { LeadershipChange } from './leadership-change.interface.js';
export { LeadershipLostError, type LeadershipLostReason } from '../errors/leadership-lost.error.js';
