import type { LeadershipLostError } from '../errors/leadership-lost.error.js';

/** A change of leadership in one election, as seen by this process. */
export type LeadershipChange =
  | {
      readonly election: string;
      readonly leader: true;
      /** The term's fencing token: greater than every earlier term's. Pass it with writes made as the leader. */
      readonly fencingToken: number;
      /** Aborts with `LeadershipLostError` when this term ends: hand it to the work done as the leader. */
      readonly signal: AbortSignal;
    }
  | {
      readonly election: string;
      readonly leader: false;
      /** The fencing token of the term that ended. */
      readonly fencingToken: number;
      /** Why it ended. */
      readonly error: LeadershipLostError;
    };
