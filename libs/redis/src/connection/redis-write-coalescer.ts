import type { Socket } from 'node:net';
import type { RedisClient } from '../connection/redis-connection.factory.js';

/**
 * Commands per socket write under load. Flushing one whole tick's worth at once (say 50 replies produced by one
 * read) makes the batch travel as a convoy: the peer only starts on the first command once the last was written,
 * so client, Redis and server take turns instead of working at the same time. Slices of 16 keep the syscall
 * savings (one `writev` per 16 commands) while the next process already works on the first slice.
 */
const COMMANDS_PER_WRITE = 16;

/**
 * Coalesces the commands issued within one tick into few socket writes: `hold()` corks the connection's socket and
 * uncorks it on the next tick, or as soon as {@link COMMANDS_PER_WRITE} commands are buffered (a command issued
 * while none awaits a reply is written at once). Under load (many
 * replies or acks produced by one read) that is one `writev` per slice instead of one syscall per command; a lone
 * command goes out right away, with none of the extra event-loop turn ioredis' auto-pipelining (`setImmediate`)
 * costs. Used by the cache's reads and the transport's publishes, appends and acks. Cluster clients are left alone:
 * they write to several sockets.
 */
export class RedisWriteCoalescer {
  private corked?: Socket;
  private buffered = 0;

  constructor(private readonly client: RedisClient) {}

  /** Call right before issuing a command on the hot path. */
  hold(): void {
    const corked = this.corked;
    if (corked) {
      if (++this.buffered <= COMMANDS_PER_WRITE) return;
      // Flush the slice and keep corking: the pending nextTick still balances this cork.
      corked.uncork();
      corked.cork();
      this.buffered = 1;
      return;
    }
    if (this.client.status !== 'ready' || !('stream' in this.client)) return;
    // Nothing awaiting a reply: a lone command (one request in flight) is written at once rather than at the end of
    // the tick; the commands that follow it in this tick are corked behind it.
    if ((this.client as { commandQueue?: { length: number } }).commandQueue?.length === 0) return;
    const stream = this.client.stream as Socket | undefined;
    if (!stream || typeof stream.cork !== 'function' || stream.destroyed) return;
    stream.cork();
    this.corked = stream;
    this.buffered = 1;
    process.nextTick(() => {
      this.corked = undefined;
      stream.uncork();
    });
  }
}
