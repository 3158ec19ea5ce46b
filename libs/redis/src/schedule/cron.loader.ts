import type { CronTime } from 'cron';
import { RedisToolkitError } from '../errors/redis-toolkit.error.js';

/** `cron`'s `CronTime` class: what computes the ticks of a `@Cron` job. */
export type CronTimeConstructor = typeof CronTime;

/**
 * Injection token of `CronTime`, loaded when `RedisScheduleModule` starts rather than when the entry point is
 * imported: `cron` is an optional peer (it comes with `@nestjs/schedule`), so `@localcloudlab/nest-redis/schedule`
 * loads in an app that has neither, and fails only where the module is used without them.
 */
export const CRON_TIME = Symbol('nest-redis:cron-time');

/** Loads `CronTime`, or fails naming the missing peer. */
export async function loadCronTime(): Promise<CronTimeConstructor> {
  try {
    return (await import('cron')).CronTime;
  } catch (error) {
    throw new RedisToolkitError(
      'RedisScheduleModule needs the optional peer dependency `cron` (installed with @nestjs/schedule): ' +
        'npm install @nestjs/schedule',
      'E_MISSING_PEER',
      { peer: 'cron' },
      { cause: error },
    );
  }
}
