import type { INestApplicationContext } from '@nestjs/common';
import { RedisHealthIndicator } from '@app/redis/health';

/** How often the timeline asks the indicator, and the probe's own timeout (the indicator's default). */
export const HEALTH_POLL_MS = 250;
export const HEALTH_TIMEOUT_MS = 1_000;

/**
 * Polls `RedisHealthIndicator.isHealthy` one check at a time, as a readiness probe would, recording when each check
 * started and what it answered, so a fault test can tell how long after the fault health said down, and how long
 * after healing it said up again.
 */
export class HealthTimeline {
  private readonly checks: { startedAt: number; up: boolean }[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(app: INestApplicationContext) {
    const indicator = app.get(RedisHealthIndicator);
    this.loop = (async () => {
      while (this.running) {
        const startedAt = Date.now();
        const result = await indicator.isHealthy('redis', { timeout: HEALTH_TIMEOUT_MS });
        this.checks.push({ startedAt, up: result.redis.status === 'up' });
        await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
      }
    })();
  }

  /** Milliseconds from `since` to the end of the first check started at or after it that answered `up`. */
  firstAfter(since: number, up: boolean): number | null {
    const index = this.checks.findIndex((c) => c.startedAt >= since && c.up === up);
    if (index < 0) return null;
    // A check's answer is known when the next one starts (checks run one at a time), or now for the last one.
    const answeredAt = this.checks[index + 1]?.startedAt ?? Date.now();
    return Math.max(0, answeredAt - HEALTH_POLL_MS - since);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
