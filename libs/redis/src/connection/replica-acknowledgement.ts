import { Cluster, type Redis } from 'ioredis';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import type { RedisClient } from './redis-connection.factory.js';
import { FSYNC_UNSUPPORTED, REPLICAS_MISSING } from './replica-acknowledgement.messages.js';

/** What a write waits for before it counts as done: `replicas` acknowledgements within `timeout` ms (`fsync`: AOF). */
export interface ReplicaAcknowledgement {
  replicas: number;
  timeout: number;
  fsync: boolean;
}

/** Field of `INFO` text, or `undefined`. */
function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

function address(node: Redis): string {
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
}

function masters(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Whether `version` (`7.0.15`) is at least `major.minor`. */
function atLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/**
 * Checks, once connected, that every master can honour `acknowledgement`: enough connected replicas, and Redis 7.2
 * or later for `fsync` (`WAITAOF`).
 * @param field the option's path, such as `streams.durability`; `label` the option as messages name it
 * @throws RedisOptionsError naming `<field>.replicas` or `<field>.fsync`
 */
export async function checkReplicaAcknowledgement(
  client: RedisClient,
  acknowledgement: ReplicaAcknowledgement,
  field: string,
  label: string,
): Promise<void> {
  const option = `${label} option "${field}`;
  for (const node of masters(client)) {
    const [replication, server] = await Promise.all([node.info('replication'), node.info('server')]);
    const version = infoField(server, 'redis_version') ?? '0';
    if (acknowledgement.fsync && !atLeast(version, 7, 2)) {
      throw new RedisOptionsError(FSYNC_UNSUPPORTED(option, address(node), version), `${field}.fsync`);
    }
    const connected = Number(infoField(replication, 'connected_slaves') ?? '0');
    if (connected < acknowledgement.replicas) {
      throw new RedisOptionsError(
        REPLICAS_MISSING(option, address(node), connected, acknowledgement.replicas),
        `${field}.replicas`,
      );
    }
  }
}

/**
 * The connection that made `key`'s last write: the client itself on one node; on a Cluster the master serving the
 * key's slot, whose slot is asked once per key (`CLUSTER KEYSLOT`) and kept in `slots`.
 */
async function writerOf(client: RedisClient, key: string, slots: Map<string, number>): Promise<Redis | undefined> {
  if (!(client instanceof Cluster)) return client;
  let slot = slots.get(key);
  if (slot === undefined) {
    slot = (await client.cluster('KEYSLOT', key)) as number;
    if (slots.size < 1_000) slots.set(key, slot);
  }
  const nodeKey = client.slots[slot]?.[0];
  return client.nodes('master').find((n) => address(n) === nodeKey);
}

/**
 * Waits until `acknowledgement.replicas` replicas acknowledged the writes made so far on the connection that wrote
 * `key` (`WAIT`; with `fsync`, `WAITAOF 1 <replicas>`), at most `acknowledgement.timeout` ms.
 * @returns how many replicas acknowledged (0 when no master is known for the key)
 */
export async function awaitReplicaAcknowledgement(
  client: RedisClient,
  key: string,
  acknowledgement: ReplicaAcknowledgement,
  slots: Map<string, number>,
): Promise<number> {
  const node = await writerOf(client, key, slots);
  if (!node) return 0;
  const { replicas, timeout, fsync } = acknowledgement;
  return fsync
    ? ((await node.call('WAITAOF', 1, replicas, timeout)) as [number, number])[1]
    : ((await node.call('WAIT', replicas, timeout)) as number);
}
