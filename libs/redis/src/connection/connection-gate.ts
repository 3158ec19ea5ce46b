import type { RedisClient } from './redis-connection.factory.js';

/**
 * Holds a client's commands back while its connection is down, instead of leaving them in ioredis' offline queue:
 * a command the caller gave up on (its deadline passed) is then never sent, rather than sent whenever Redis comes
 * back.
 */
export class ConnectionGate {
  private waiting?: Promise<void>;

  constructor(private readonly client: RedisClient) {}

  /**
   * `undefined` when the connection is ready (no promise on the hot path), else a promise resolved at its next
   * `ready`. Never rejects: callers bound the wait with their own deadline.
   */
  whenReady(): Promise<void> | undefined {
    if (this.client.status === 'ready') return undefined;
    this.waiting ??= new Promise<void>((resolve) =>
      this.client.once('ready', () => {
        this.waiting = undefined;
        resolve();
      }),
    );
    return this.waiting;
  }
}

/** What a queued command needs to know about its caller: whether it stopped waiting (deadline passed, client closed). */
export interface CommandTicket {
  abandoned: boolean;
}
