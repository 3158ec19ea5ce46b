import type { LoggerService } from '@nestjs/common';
import type { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import type { UntrustedInputSource } from '../instrumentation/redis-instrumentation.events.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** Longest reason text logged: a reason never carries the payload, but a driver's error text might quote it. */
const MAX_REASON_CHARS = 200;

/**
 * Where a reader of untrusted Redis data reports what it dropped: counted on the instrumentation hub
 * (`input.rejected`, exported as `untrusted_input_rejected_total{source}`) and logged at most once per interval
 * per source, so a flood of junk neither floods the logs nor hides behind a single line. Reasons say what was
 * wrong (shape, size), never the payload itself.
 */
export class RejectedInputReporter {
  private readonly logs = new Map<UntrustedInputSource, RateLimitedLog>();

  constructor(
    private readonly logger: LoggerService,
    private readonly instrumentation?: Pick<RedisInstrumentation, 'emit'>,
    private readonly intervalMs?: number,
  ) {}

  /**
   * Counts and logs one rejected input.
   * @param source where it was read
   * @param where a short, non-secret description of the channel or key kind (e.g. `channel "x:cache:events"`)
   * @param reason what was wrong with it
   */
  reject(source: UntrustedInputSource, where: string, reason: string): void {
    this.instrumentation?.emit('input.rejected', { source });
    let log = this.logs.get(source);
    if (log === undefined) {
      log = new RateLimitedLog(this.logger, this.intervalMs);
      this.logs.set(source, log);
    }
    const short = reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason;
    log.warn(`Dropped malformed input from Redis on ${where}: ${short}.`);
  }
}

/**
 * Parses untrusted text that must hold a JSON object: the object, or why it is not one (what is wrong, never the
 * content), for the reporter. The one parser of the library's untrusted JSON messages (cache bus, Keyv values).
 */
export function parseJsonObject(text: string): Record<string, unknown> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `not JSON (${text.length} characters)`;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return `${describeShape(parsed)}, not an object`;
  return parsed as Record<string, unknown>;
}

/** A short description of a payload's shape for a log line, without its content. */
export function describeShape(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
