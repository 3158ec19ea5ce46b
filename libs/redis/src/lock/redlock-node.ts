import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { connectionSecrets, describeConnection } from '../connection/describe-connection.js';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import type { ResolvedRedisConnection } from '../connection/resolved-redis-connection.interface.js';
import { redactSecrets } from '../utils/redact.js';
import { LOCK_NODE_FAILED } from './lock.messages.js';
import { withTimeout } from './with-timeout.js';

/** How long a graceful QUIT of a node connection may take at shutdown. */
const QUIT_TIMEOUT_MS = 1_000;

/** One Redlock node: its connection options, its command connection and (once waiters exist) its subscriber. */
export interface RedlockNode {
  label: string;
  connection: ResolvedRedisConnection;
  client: Redis;
  subscriber?: Redis;
}

/** Logs the first error of a node's outage and its recovery, with the node's secrets scrubbed. */
export function trackNodeHealth(node: RedlockNode, client: RedisClient, logger: Logger): void {
  const secrets = connectionSecrets(node.connection);
  let failing = false;
  client.on('error', (error: Error) => {
    if (failing) return;
    failing = true;
    logger.warn(
      LOCK_NODE_FAILED(node.label, describeConnection(node.connection), redactSecrets(error.message, secrets)),
    );
  });
  client.on('ready', () => {
    if (failing) logger.log(`Redlock node "${node.label}" is ready again.`);
    failing = false;
  });
}

/** Closes a node connection: a bounded QUIT when ready, a plain disconnect otherwise. */
export async function closeNodeClient(client: RedisClient): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await withTimeout(client.quit(), QUIT_TIMEOUT_MS);
  } catch {
    client.disconnect();
  }
}
