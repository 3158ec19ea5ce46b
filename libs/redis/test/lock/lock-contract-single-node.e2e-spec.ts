import { singleNode } from '@test/harness';
import { lockContract } from '@test/contracts';

lockContract(singleNode);
