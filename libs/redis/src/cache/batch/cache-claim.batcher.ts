import type { CacheRedisStore, ClaimRequest, ClaimResult } from '../cache-redis.store.js';
import { TickBatcher } from './tick.batcher.js';

/** Most claims per command (three keys each), as for reads. */
const CLAIMS_PER_COMMAND = 128;

/**
 * Internal: the miss-path claims of one event-loop turn (look for an entry that landed, else take or find the
 * loading lock, read the generation), sent together (`TickBatcher`): one script per hash slot for all of them; a
 * lone claim is the single-key CLAIM script.
 */
export class CacheClaimBatcher {
  private readonly batcher: TickBatcher<ClaimRequest, ClaimResult>;

  constructor(store: CacheRedisStore, lockTtl: number) {
    this.batcher = new TickBatcher(
      store.client,
      {
        keyOf: (request) => request.entryKey,
        one: (request) => store.claim(request.entryKey, request.token, lockTtl, request.checkEntry),
        many: (requests) => store.claimSlotBatch(requests, lockTtl),
      },
      CLAIMS_PER_COMMAND,
    );
  }

  claim(entryKey: string, token: string, checkEntry: boolean): Promise<ClaimResult> {
    return this.batcher.submit({ entryKey, token, checkEntry });
  }
}
