import type { RedisClient } from '../../connection/redis-connection.factory.js';

/** Number of hash slots of a Redis Cluster. */
const SLOT_COUNT = 16_384;

/** CRC16/XMODEM lookup table (polynomial 0x1021), the checksum Redis Cluster hashes keys with. */
const CRC16_TABLE = buildCrc16Table();

function buildCrc16Table(): Uint16Array {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
}

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

/**
 * The Redis Cluster hash slot of `key` (what `CLUSTER KEYSLOT` answers): CRC16 of the key's UTF-8 bytes, or of
 * its hash tag (the bytes between the first `{` and the next `}`, when there are any), modulo 16384. Computed here
 * because ioredis exports no slot function and its own (`cluster-key-slot`) is not a dependency of this package.
 */
export function hashSlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(bytes, open + 1, close) % SLOT_COUNT;
  }
  return crc16(bytes, 0, bytes.length) % SLOT_COUNT;
}

/**
 * Groups the positions of `keys` so that each group can be sent as one multi-key command: on a Cluster one group
 * per hash slot (a multi-key command may not cross slots), on a single node or Sentinel one group for all.
 * Returns arrays of indexes into `keys`, in first-seen order.
 */
export function groupBySlot(client: RedisClient, keys: readonly string[]): number[][] {
  if (keys.length === 0) return [];
  if (!isCluster(client)) return [keys.map((_key, index) => index)];
  const groups = new Map<number, number[]>();
  keys.forEach((key, index) => {
    const slot = hashSlot(key);
    const group = groups.get(slot);
    if (group) group.push(index);
    else groups.set(slot, [index]);
  });
  return [...groups.values()];
}

/** Whether `client` is an ioredis `Cluster` (it has `nodes()`), without importing the class. */
export function isCluster(client: RedisClient): boolean {
  return 'nodes' in client && typeof client.nodes === 'function';
}
