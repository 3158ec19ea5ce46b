import type { CronTimeConstructor } from './cron.loader.js';

/** Tells which tick a run belongs to: the start (epoch ms) of the tick a replica fires at local time `now`. */
export type TickOf = (now: number) => number;

/** Longest look-back when searching a cron expression's previous fire time (8 years, `cron`'s own horizon). */
const MAX_LOOKBACK_MS = 8 * 366 * 86_400_000;

/** Ticks of a fixed period: windows of `period` ms from the epoch. Every replica maps the same window to one tick. */
export function periodTicks(period: number): TickOf {
  return (now) => Math.floor(now / period) * period;
}

/**
 * Ticks of a cron schedule: the latest scheduled fire time at or before `now`, computed from the expression with the
 * `cron` package (the one `@nestjs/schedule` runs jobs with, so both agree on time zones and DST). A job fires at or
 * shortly after its scheduled time, so each replica finds the same scheduled time from its own clock: skew between
 * replicas does not shift the tick, it only delays a lagging replica's run (covered by the claim marker's ttl).
 */
export function cronTicks(
  CronTime: CronTimeConstructor,
  source: string,
  timeZone?: string,
  utcOffset?: number,
): TickOf {
  const cron = utcOffset === undefined ? new CronTime(source, timeZone) : new CronTime(source, null, utcOffset);
  // The zone `cron` itself matches the expression in (it starts from a UTC date set to the job's zone or offset).
  const zone = timeZone ?? (utcOffset === undefined ? 'UTC' : offsetZone(utcOffset));
  const next = (from: number) => cron.getNextDateFrom(new Date(from), zone).toMillis();
  return (now) => {
    for (let lookback = 1_000; lookback <= MAX_LOOKBACK_MS; lookback *= 2) {
      let candidate = next(now - lookback);
      if (candidate > now) continue;
      for (let following = next(candidate); following <= now; following = next(candidate)) candidate = following;
      return candidate;
    }
    return now;
  };
}

/** `UTC±hh:mm` for an offset in minutes, as `cron` names it. */
function offsetZone(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const hours = Math.trunc(Math.abs(minutes) / 60);
  const rest = Math.abs(minutes) - hours * 60;
  return `UTC${sign}${String(hours).padStart(2, '0')}:${String(rest).padStart(2, '0')}`;
}
