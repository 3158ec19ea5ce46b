import type { CacheRedisStore } from '../cache-redis.store.js';
import { TickBatcher } from './tick.batcher.js';

/**
 * Most reads per command: a fuller batch leaves at once, so one script never blocks Redis for long (~0.7 µs per GET
 * inside it). Smaller slices (16, 32) were measured too, to let Redis start on one while Node prepares the next:
 * on this 2-core machine under load they cost more CPU per hit and gave no more hits per second than one command
 * for a whole turn of 100.
 */
const READS_PER_COMMAND = 256;

/**
 * Internal: the entry reads (hits) of one event-loop turn, sent together (`TickBatcher`): one script of GETs per
 * hash slot, the reply decoded by each caller once for its entry; a lone read is a plain GET, built when it is
 * queued and awaited by its caller as it is.
 *
 * Why a script and not MGET: the documented minimal ACL (docs/RELIABILITY.md) grants GET and EVALSHA, not MGET, and
 * trying MGET first would fill `ACL LOG` with a denial per process start. Inside Redis the script costs one
 * `redis.call` per key more than MGET (0.5–0.8 µs per key measured by the `cache` bench suite) and the client
 * 0.1–0.15 µs per key more (a longer command), against 10–15 µs of CPU per hit in all: one command, one reply,
 * one deadline for the whole batch either way.
 */
export class CacheReadBatcher {
  private readonly batcher: TickBatcher<string, Buffer | null>;

  constructor(store: CacheRedisStore) {
    this.batcher = new TickBatcher(
      store.client,
      {
        keyOf: (entryKey) => entryKey,
        one: (entryKey) => store.get(entryKey),
        many: (entryKeys) => store.getSlotBatch(entryKeys),
        // A lone read is the plain GET its caller awaits directly (no promise of the batcher's own in between).
        alone: {
          prepare: (entryKey) => store.getCommand(entryKey),
          send: (prepared) => store.sendGet(prepared),
        },
      },
      READS_PER_COMMAND,
    );
  }

  /** The entry stored under `entryKey` (`null` when missing), read with the others requested in this turn. */
  read(entryKey: string): Promise<Buffer | null> {
    return this.batcher.submit(entryKey);
  }
}
