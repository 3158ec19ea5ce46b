import type { Socket } from 'node:net';
import type { RedisClient } from '../connection/redis-connection.factory.js';

/**
 * Coalesces the commands issued within one tick into one socket write: `hold()` corks the connection's socket and
 * uncorks it on the next tick. Under load (many replies or acks produced by one read) that is one `writev` instead
 * of one syscall per command; a lone command goes out right away, with none of the extra event-loop turn ioredis'
 * auto-pipelining (`setImmediate`) costs. Cluster clients are left alone: they write to several sockets and use
 * ioredis' slot-aware auto-pipelining instead.
 */
export class RedisWriteCoalescer {
  private corked?: Socket;

  constructor(private readonly client: RedisClient) {}

  /** Call right before issuing a command on the hot path. */
  hold(): void {
    if (this.corked || this.client.status !== 'ready' || !('stream' in this.client)) return;
    const stream = this.client.stream as Socket | undefined;
    if (!stream || typeof stream.cork !== 'function' || stream.destroyed) return;
    stream.cork();
    this.corked = stream;
    process.nextTick(() => {
      this.corked = undefined;
      stream.uncork();
    });
  }
}
