/** Message builders of the scheduling feature. Job names are chosen by the application, never secrets. */

export const TICK_SKIPPED_BUSY = (job: string, tick: number): string =>
  `Job "${job}": tick ${new Date(tick).toISOString()} skipped, an earlier tick still runs on another replica.`;

export const TICK_SKIPPED_UNREACHABLE = (job: string, tick: number, reason: string): string =>
  `Job "${job}": tick ${new Date(tick).toISOString()} skipped on this replica, Redis did not answer (${reason}).`;

export const NO_TICK_SOURCE = (where: string): string =>
  `@OncePerCluster on ${where}: cannot tell its ticks; stack it with @Cron or @Interval from @nestjs/schedule, or ` +
  'give it a "period" (required with @Timeout).';
