import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { RedisWriteCoalescer } from '../../connection/redis-write-coalescer.js';
import { errorText } from '../../utils/error-text.js';
import type { RateLimitedLog } from '../../utils/rate-limited-log.js';

/**
 * How long a handled entry may wait for its `XACK`, to share it with the entries handled right after it: at a few
 * thousand events per second that is one `XACK` (and one reply to wake up for) per several entries instead of one
 * each. A crash inside the window only means those entries are delivered again (at least once).
 */
const ACK_WINDOW_MS = 2;
/** Entries per `XACK`: a full batch is sent at once, without waiting for the window. */
const ACK_BATCH = 128;

/**
 * Acknowledges handled entries in batches: one `XACK key group id…` for the entries handled within
 * `ACK_WINDOW_MS` of each other (at most `ACK_BATCH`). Shutdown still waits for each `XACK` (it is tracked like a
 * handler run), and one that fails leaves its entries pending, to be reclaimed.
 */
export class StreamAckBatcher {
  private ids: string[] = [];
  private timer?: NodeJS.Timeout;
  private readonly writes: RedisWriteCoalescer;

  constructor(
    private readonly client: RedisClient,
    private readonly key: string,
    private readonly group: string,
    private readonly track: (work: Promise<unknown>) => void,
    private readonly failures: RateLimitedLog,
  ) {
    this.writes = new RedisWriteCoalescer(client);
  }

  /** Queues the acknowledgement of `id`; `now` sends the batch at once (the consumer is stopping). */
  ack(id: string, now = false): void {
    this.ids.push(id);
    if (this.ids.length >= ACK_BATCH || now) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), ACK_WINDOW_MS);
  }

  /** Sends the queued acknowledgements now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.ids.length === 0) return;
    const ids = this.ids;
    this.ids = [];
    this.writes.hold();
    this.track(
      this.client
        .xack(this.key, this.group, ...ids)
        .catch((error: unknown) =>
          this.failures.warn(`${ids.length} handled entr(y/ies) of ${this.key} left pending: ${errorText(error)}.`),
        ),
    );
  }
}
