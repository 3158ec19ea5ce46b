import type { HoldStatus } from '../hold.interface.js';

/** Why a hold can no longer be confirmed or cancelled. */
export type HoldEnd = Exclude<HoldStatus, 'held'> | 'expired';

/** The hold is no longer held: confirmed, cancelled, released, or past its expiry (and about to be released). */
export class HoldNotActiveError extends Error {
  readonly code = 'HOLD_NOT_ACTIVE';

  constructor(
    readonly holdId: string,
    readonly end: HoldEnd,
  ) {
    super(`Hold ${holdId} is ${end}.`);
    this.name = HoldNotActiveError.name;
  }
}
