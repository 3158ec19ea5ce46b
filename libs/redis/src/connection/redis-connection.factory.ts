import { Cluster, Redis } from 'ioredis';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { settleWithin } from '../utils/settle-within.js';
import type { ResolvedRedisConnection } from './resolved-redis-connection.interface.js';

/** Either kind of client the module hands out. */
export type RedisClient = Redis | Cluster;

/**
 * Creates the ioredis client for a resolved connection. Clients are created with `lazyConnect`; the registry
 * connects them so that startup can be bounded by `connectTimeout`.
 */
export function createRedisClient(connection: ResolvedRedisConnection): RedisClient {
  if (connection.kind === 'cluster') return new Cluster(connection.nodes, connection.options);
  return new Redis(connection.options);
}

/**
 * Errors that retrying cannot fix: wrong credentials, missing permissions, a certificate the client does not trust
 * or a server that demands one, a credentials function that throws or returns nothing usable. Startup reports them
 * at once instead of waiting out `connectTimeout`.
 */
export function isPermanentConnectionError(error: Error): boolean {
  const code = (error as { code?: string }).code ?? '';
  return (
    error instanceof RedisOptionsError ||
    /^(WRONGPASS|NOAUTH|NOPERM)\b/.test(error.message) ||
    /invalid (username-)?password/i.test(error.message) ||
    /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME_MISMATCH|ERR_TLS/i.test(code) ||
    /certificate/i.test(error.message)
  );
}

/**
 * Resolves once `client` is ready, or rejects with the last connection error seen when `timeoutMs` passes first,
 * or at once on a permanent error (see {@link isPermanentConnectionError}). ioredis keeps retrying in the
 * background; on rejection the caller decides whether to disconnect.
 */
export async function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  let lastError: Error | undefined;
  let cleanup = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      lastError = error;
      if (isPermanentConnectionError(error)) {
        cleanup();
        reject(error);
      }
    };
    const onEnd = () => {
      cleanup();
      reject(lastError ?? new Error('the connection was closed before it became ready'));
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    cleanup = () => {
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('end', onEnd);
    };
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('end', onEnd);
    if (client.status === 'wait') {
      // connect() rejects on the first failed attempt while ioredis retries; the 'ready' event is what counts.
      client.connect().catch(onError);
    }
  });
  try {
    await settleWithin(ready, timeoutMs, () => lastError ?? new Error(`no answer within ${timeoutMs} ms`));
  } finally {
    cleanup();
  }
}
