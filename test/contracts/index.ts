export { cacheContract } from './cache.contract.js';
export { lockContract } from './lock.contract.js';
