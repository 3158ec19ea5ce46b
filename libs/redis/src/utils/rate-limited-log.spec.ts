import { describe, expect, it } from '@jest/globals';
import { RateLimitedLog } from './rate-limited-log.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function capture() {
  const lines: string[] = [];
  return { lines, logger: { warn: (message: unknown) => void lines.push(String(message)) } };
}

describe('RateLimitedLog', () => {
  it('logs the first line of a burst, then the count of the suppressed ones with the next line', async () => {
    const { lines, logger } = capture();
    const log = new RateLimitedLog(logger, 100);
    expect(log.warn('junk 1')).toBe(true);
    for (let i = 2; i <= 50; i++) expect(log.warn(`junk ${i}`)).toBe(false);
    expect(lines).toEqual(['junk 1']);
    expect(log.suppressed).toBe(49);
    await sleep(120);
    log.warn('junk 51');
    expect(lines).toEqual(['junk 1', 'junk 51 (49 similar message(s) suppressed)']);
  });

  it('keeps one window per key, and lets a function word the count', async () => {
    const { lines, logger } = capture();
    const log = new RateLimitedLog(logger, 100);
    log.warn((n) => `a failed (${n} more)`, 'a');
    log.warn((n) => `b failed (${n} more)`, 'b');
    log.warn((n) => `a failed (${n} more)`, 'a');
    await sleep(120);
    log.warn((n) => `a failed (${n} more)`, 'a');
    expect(lines).toEqual(['a failed (0 more)', 'b failed (0 more)', 'a failed (1 more)']);
  });
});
