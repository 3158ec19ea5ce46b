import type { Socket } from 'node:net';
import { DetectorSafeConnector, type ErrorEmitter, failedAttempt } from './detector-safe.connector.js';
import { rotatingCredentialsOf } from './rotating-credentials.js';

/** ioredis' own `connectTimeout` default, for a client without one (the library always sets it). */
const DEFAULT_CONNECT_MS = 10_000;

/**
 * The ioredis `Connector` of connections configured with a credentials function: before each connection attempt
 * (the first connect and every reconnect) it awaits the function, then connects as ioredis would have. ioredis
 * builds one connector per client from its options, and duplicates, Cluster nodes and the clients the library
 * creates copy those options, so every one of them fetches before it connects.
 *
 * When a fetch fails after an earlier one succeeded, the attempt goes on with the last credentials (a token usually
 * outlives a blip of its issuer) and the failure is reported as an `error` event. When no fetch has succeeded yet,
 * the attempt fails with that error and ioredis retries per its `retryStrategy`; startup reports it at once. The
 * attempt itself is `DetectorSafeConnector`'s; this adds the fetch before it.
 */
export class CredentialsConnector extends DetectorSafeConnector {
  override async beforeAttempt(emit: ErrorEmitter): Promise<Socket | undefined> {
    const credentials = rotatingCredentialsOf(this.options);
    if (!credentials) return undefined;
    try {
      // Half the connect timeout: the rest is left to the socket and handshake, and a hung issuer is reported as
      // such (naming the option) before startup's own wait for the connection runs out.
      await credentials.refresh(Math.max(1, Math.floor((this.options.connectTimeout ?? DEFAULT_CONNECT_MS) / 2)));
    } catch (error) {
      if (!credentials.fetched) {
        this.firstError = error as Error;
        return failedAttempt();
      }
      emit('error', error as Error);
    }
    return undefined;
  }
}
