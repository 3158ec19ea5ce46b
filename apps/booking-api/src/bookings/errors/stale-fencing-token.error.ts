/**
 * A write carried a fencing token no newer than the slot's last one: its lock was lost (expired or taken over)
 * and a newer holder has written since. The transaction was rolled back.
 */
export class StaleFencingTokenError extends Error {
  readonly code = 'STALE_FENCING_TOKEN';

  constructor(
    readonly slotId: string,
    readonly fencingToken: number,
  ) {
    super(`Slot ${slotId} was written under a newer lock than token ${fencingToken}; the write was rejected.`);
    this.name = StaleFencingTokenError.name;
  }
}
