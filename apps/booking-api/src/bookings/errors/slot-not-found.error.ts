/** No slot has this id. */
export class SlotNotFoundError extends Error {
  readonly code = 'SLOT_NOT_FOUND';

  constructor(readonly slotId: string) {
    super(`Slot ${slotId} does not exist.`);
    this.name = SlotNotFoundError.name;
  }
}
