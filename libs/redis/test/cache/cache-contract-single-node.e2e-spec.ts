import { singleNode } from '@test/harness';
import { cacheContract } from '@test/contracts';

cacheContract(singleNode);
