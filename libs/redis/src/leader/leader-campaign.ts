import type { Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { LeadershipLostError, type LeadershipLostReason } from '../errors/leadership-lost.error.js';
import { LockNotAcquiredError } from '../errors/lock-not-acquired.error.js';
import type { Lock } from '../lock/lock.interface.js';
import type { LockService } from '../lock/lock.service.js';
import { RateLimitedLog } from '../utils/rate-limited-log.js';
import type { LeadershipChange } from './leadership-change.interface.js';
import { CAMPAIGN_RETRY, LEADERSHIP_ENDED, LEADERSHIP_GAINED } from './leader.messages.js';
import { errorText } from '../utils/error-text.js';
import { sleep } from '../utils/sleep.js';

/** How long one wait in the candidates' queue lasts before it is renewed (the queue position is kept meanwhile). */
const CAMPAIGN_WAIT_MS = 60_000;
/** The longest a lock's watchdog renews it: a term ends after it, and the process campaigns again. */
const MAX_TERM_MS = 86_400_000;

export interface LeaderCampaignSettings {
  name: string;
  ttl: number;
  retryDelay: number;
  retryJitter: number;
}

/**
 * One election, campaigned by this process: waits in the lease lock's FIFO queue (`leader:<name>` through
 * `LockService`), holds the lease with the lock's watchdog while leader, and campaigns again when a term ends. The
 * lease's fencing token is the term's; the lock's loss signal ends the term.
 */
export class LeaderCampaign {
  private readonly subject = new Subject<LeadershipChange>();
  private lease?: Lock;
  private term?: AbortController;
  private running?: AbortController;
  private loop?: Promise<void>;
  private readonly retryLog: RateLimitedLog;

  constructor(
    private readonly settings: LeaderCampaignSettings,
    private readonly locks: LockService,
    private readonly logger: Logger,
  ) {
    this.retryLog = new RateLimitedLog(logger);
  }

  get name(): string {
    return this.settings.name;
  }

  get isLeader(): boolean {
    return this.lease !== undefined;
  }

  get fencingToken(): number | undefined {
    return this.lease?.fencingToken;
  }

  get signal(): AbortSignal | undefined {
    return this.term?.signal;
  }

  get changes(): Observable<LeadershipChange> {
    return this.subject.asObservable();
  }

  start(): void {
    if (this.running) return;
    const running = new AbortController();
    this.running = running;
    this.loop = this.campaign(running.signal);
  }

  /**
   * Stops campaigning; a leader releases its lease, which hands it to the next candidate in the queue at once.
   * @param reason reported in the `LeadershipLostError` of the ending term
   */
  async stop(reason: Exclude<LeadershipLostReason, 'lost'>): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    running.abort();
    const lease = this.lease;
    if (lease) {
      this.end(reason);
      await lease.release().catch((error: unknown) => {
        this.logger.warn(
          `Election "${this.name}": lease not released (${errorText(error)}); it expires after its ttl.`,
        );
      });
    }
    await this.loop;
  }

  complete(): void {
    this.subject.complete();
  }

  private async campaign(stopped: AbortSignal): Promise<void> {
    const { name, ttl, retryDelay, retryJitter } = this.settings;
    while (!stopped.aborted) {
      let lease: Lock;
      try {
        lease = await this.locks.acquire(`leader:${name}`, {
          ttl,
          waitTimeout: CAMPAIGN_WAIT_MS,
          retryDelay,
          retryJitter,
          autoExtend: true,
          maxHoldTime: MAX_TERM_MS,
          signal: stopped,
        });
      } catch (error) {
        if (stopped.aborted) return;
        if (!(error instanceof LockNotAcquiredError) || error.reason !== 'contention') {
          this.retryLog.warn(CAMPAIGN_RETRY(name, errorText(error)));
          await sleep(Math.min(ttl, 1_000), stopped);
        }
        continue;
      }
      if (stopped.aborted) {
        await lease.release().catch(() => undefined);
        return;
      }
      this.gain(lease);
      await untilAborted(lease.signal, stopped);
      if (lease.signal.aborted && this.lease === lease) this.end('lost', lease.signal.reason);
    }
  }

  private gain(lease: Lock): void {
    this.lease = lease;
    const term = new AbortController();
    this.term = term;
    this.logger.log(LEADERSHIP_GAINED(this.name, lease.fencingToken));
    this.subject.next({ election: this.name, leader: true, fencingToken: lease.fencingToken, signal: term.signal });
  }

  private end(reason: LeadershipLostReason, cause?: unknown): void {
    const lease = this.lease;
    const term = this.term;
    if (!lease || !term) return;
    this.lease = undefined;
    this.term = undefined;
    const error = new LeadershipLostError(
      LEADERSHIP_ENDED(this.name, lease.fencingToken, reason),
      this.name,
      reason,
      lease.fencingToken,
      cause,
    );
    if (reason === 'lost') this.logger.warn(error.message);
    else this.logger.log(error.message);
    term.abort(error);
    this.subject.next({ election: this.name, leader: false, fencingToken: lease.fencingToken, error });
  }
}

/** Resolves when either signal aborts. */
function untilAborted(...signals: AbortSignal[]): Promise<void> {
  if (signals.some((s) => s.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signals.forEach((s) => s.removeEventListener('abort', done));
      resolve();
    };
    signals.forEach((s) => s.addEventListener('abort', done, { once: true }));
  });
}
