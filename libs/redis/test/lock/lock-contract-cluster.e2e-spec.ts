import { redisCluster } from '@test/harness';
import { lockContract } from '@test/contracts';

lockContract(redisCluster);
