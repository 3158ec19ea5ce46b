import { redisCluster } from '@test/harness';
import { cacheContract } from '@test/contracts';

cacheContract(redisCluster);
