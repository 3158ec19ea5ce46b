/** The slot has fewer free seats than requested. */
export class SlotSoldOutError extends Error {
  readonly code = 'SOLD_OUT';

  constructor(
    readonly slotId: string,
    readonly availableSeats: number,
    readonly requestedSeats: number,
  ) {
    super(`Slot ${slotId} has ${availableSeats} seat(s) left; ${requestedSeats} requested.`);
    this.name = SlotSoldOutError.name;
  }
}
