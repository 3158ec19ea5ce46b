import { CronTime } from 'cron';
import { describe, expect, it } from '@jest/globals';
import { cronTicks, periodTicks } from './schedule-tick.js';

const at = (iso: string) => new Date(iso).getTime();

describe('schedule ticks', () => {
  it('a cron tick is the latest scheduled fire time at or before now', () => {
    const everySecond = cronTicks(CronTime, '* * * * * *');
    expect(everySecond(at('2026-03-01T10:00:05.000Z'))).toBe(at('2026-03-01T10:00:05.000Z'));
    expect(everySecond(at('2026-03-01T10:00:05.999Z'))).toBe(at('2026-03-01T10:00:05.000Z'));
    const everyFive = cronTicks(CronTime, '*/5 * * * * *');
    expect(everyFive(at('2026-03-01T10:00:09.300Z'))).toBe(at('2026-03-01T10:00:05.000Z'));
    const daily = cronTicks(CronTime, '0 30 3 * * *', 'UTC');
    expect(daily(at('2026-03-02T01:00:00.000Z'))).toBe(at('2026-03-01T03:30:00.000Z'));
    expect(daily(at('2026-03-02T03:30:00.200Z'))).toBe(at('2026-03-02T03:30:00.000Z'));
  });

  it('replicas firing one scheduled time late by different amounts agree on the tick', () => {
    const everyTen = cronTicks(CronTime, '*/10 * * * * *');
    const fires = [0, 3, 250, 900].map((late) => everyTen(at('2026-03-01T10:00:20.000Z') + late));
    expect(new Set(fires)).toEqual(new Set([at('2026-03-01T10:00:20.000Z')]));
  });

  it('honours the time zone of the cron job', () => {
    const paris = cronTicks(CronTime, '0 0 9 * * *', 'Europe/Paris');
    expect(paris(at('2026-07-01T12:00:00.000Z'))).toBe(at('2026-07-01T07:00:00.000Z'));
    const offset = cronTicks(CronTime, '0 0 9 * * *', undefined, 120);
    expect(offset(at('2026-07-01T12:00:00.000Z'))).toBe(at('2026-07-01T07:00:00.000Z'));
  });

  it('a period tick is the start of its period-long window of the epoch', () => {
    const minute = periodTicks(60_000);
    expect(minute(at('2026-03-01T10:07:59.999Z'))).toBe(at('2026-03-01T10:07:00.000Z'));
    expect(minute(at('2026-03-01T10:08:00.000Z'))).toBe(at('2026-03-01T10:08:00.000Z'));
  });
});
