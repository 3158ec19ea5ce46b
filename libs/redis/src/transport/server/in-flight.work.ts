import type { LoggerService } from '@nestjs/common';
import { waitWithin } from '../../utils/settle-within.js';
import { SHUTDOWN_TIMED_OUT } from '../redis-transport.messages.js';

/** Counts the server's handler runs (and their acks) not finished yet, so that shutdown can wait for them. */
export class InFlightWork {
  private running = 0;
  private idle?: () => void;
  private readonly settled = (): void => {
    if (--this.running === 0) this.idle?.();
  };

  constructor(private readonly logger: LoggerService) {}

  /** Counts `work` as in flight until it settles. */
  track(work: Promise<unknown>): void {
    this.running++;
    work.then(this.settled, this.settled);
  }

  /** Waits up to `timeoutMs` for the work in flight to finish; logs what is still running when it does not. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.running === 0) return;
    const finished = await waitWithin(new Promise<void>((resolve) => (this.idle = resolve)), timeoutMs);
    this.idle = undefined;
    if (!finished) this.logger.warn(SHUTDOWN_TIMED_OUT(this.running, timeoutMs));
  }
}
