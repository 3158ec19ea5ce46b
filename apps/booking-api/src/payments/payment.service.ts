import { hostname } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { WithSemaphore } from '@app/redis/semaphore';
import { API_CONFIG } from '../config/api-config.constants.js';
import type { ApiConfig } from '../config/api-config.interface.js';
import { Database } from '../database/database.js';
import { PAYMENT_PERMITS, PAYMENT_SEMAPHORE } from './payment.constants.js';

/** Longest a confirmation waits for a payment permit before answering 503. */
const PAYMENT_PERMIT_WAIT_MS = 30_000;

/**
 * The simulated payment step of a hold confirmation: a call that takes `PAYMENT_DELAY_MS`, of which at most
 * {@link PAYMENT_PERMITS} run at once across every replica (`@WithSemaphore`, a Redis counting semaphore). Each
 * call records when it held its permit (`Date.now()`, the clock every process on a host shares) in `payments`, so
 * the demo and the tests can check the cap from outside.
 */
@Injectable()
export class PaymentService {
  private readonly instance = `${hostname()}:${process.pid}`;
  private readonly delayMs: number;

  constructor(
    private readonly db: Database,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    this.delayMs = config.paymentDelayMs;
  }

  /**
   * Authorises the payment of a hold (simulated: waits `PAYMENT_DELAY_MS`).
   *
   * @throws SemaphoreNotAcquiredError when no permit freed up within 30 s or Redis is unreachable
   */
  @WithSemaphore({ key: PAYMENT_SEMAPHORE, permits: PAYMENT_PERMITS, waitTimeout: PAYMENT_PERMIT_WAIT_MS })
  async authorize(holdId: string): Promise<void> {
    const startedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const finishedAt = Date.now();
    await this.db.query(
      `INSERT INTO payments (hold_id, instance, started_at_ms, finished_at_ms) VALUES ($1, $2, $3, $4)`,
      [holdId, this.instance, startedAt, finishedAt],
    );
  }
}
