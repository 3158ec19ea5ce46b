/** Injection token of the resolved `RedisLeaderModule.forRoot` options. */
export const LEADER_OPTIONS = '@localcloudlab/nest-redis:leader-options';
