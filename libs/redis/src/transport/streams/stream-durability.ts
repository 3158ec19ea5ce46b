import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { awaitReplicaAcknowledgement, checkReplicaAcknowledgement } from '../../connection/replica-acknowledgement.js';
import { RedisToolkitError } from '../../errors/redis-toolkit.error.js';
import type { ResolvedStreamsDurability } from '../options/resolve-streams-options.js';
import { EMIT_NOT_REPLICATED } from '../redis-transport.messages.js';

/**
 * Checks, once connected, that every master can honour `streams.durability`.
 * @throws RedisOptionsError naming `streams.durability.replicas` or `streams.durability.fsync`
 */
export function checkStreamsDurability(client: RedisClient, durability: ResolvedStreamsDurability): Promise<void> {
  return checkReplicaAcknowledgement(client, durability, 'streams.durability', 'RedisTransport');
}

/**
 * Waits until `durability.replicas` replicas acknowledged the entry `id` of stream `key` (with the connection's
 * earlier writes).
 * @throws RedisToolkitError `E_TRANSPORT_NOT_REPLICATED` when fewer acknowledged within `durability.timeout`
 */
export async function awaitStreamReplication(
  client: RedisClient,
  key: string,
  pattern: string,
  id: string,
  durability: ResolvedStreamsDurability,
  slots: Map<string, number>,
): Promise<void> {
  const acked = await awaitReplicaAcknowledgement(client, key, durability, slots);
  if (acked < durability.replicas) {
    throw new RedisToolkitError(
      EMIT_NOT_REPLICATED(pattern, id, acked, durability.replicas, durability.timeout),
      'E_TRANSPORT_NOT_REPLICATED',
      { key },
    );
  }
}
