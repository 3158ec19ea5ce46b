import type { LeadershipLostReason } from '../errors/leadership-lost.error.js';

/** Message builders of leader election. Election names are chosen by the application, never secrets. */

const ENDED_BECAUSE: Record<LeadershipLostReason, string> = {
  lost: 'its lease was lost',
  shutdown: 'this process is shutting down (the lease was handed over)',
  stopped: 'the campaign was stopped',
};

export const LEADERSHIP_ENDED = (election: string, fencingToken: number, reason: LeadershipLostReason): string =>
  `Leadership of "${election}" (fencing token ${fencingToken}) ended: ${ENDED_BECAUSE[reason]}.`;

export const LEADERSHIP_GAINED = (election: string, fencingToken: number): string =>
  `Leader of "${election}" (fencing token ${fencingToken}).`;

export const CAMPAIGN_RETRY = (election: string, reason: string): string =>
  `Election "${election}": cannot campaign (${reason}); retrying.`;

export const UNKNOWN_ELECTION = (election: string, known: string[]): string =>
  `Unknown election "${election}": this process campaigns in ${known.map((n) => `"${n}"`).join(', ')} (RedisLeaderModule.forRoot({ elections })).`;
