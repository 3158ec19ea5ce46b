/** No hold has this id. */
export class HoldNotFoundError extends Error {
  readonly code = 'HOLD_NOT_FOUND';

  constructor(readonly holdId: string) {
    super(`Hold ${holdId} does not exist.`);
    this.name = HoldNotFoundError.name;
  }
}
