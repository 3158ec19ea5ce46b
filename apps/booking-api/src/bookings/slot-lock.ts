/** Lock resource that serialises every write to one slot (bookings and cancellations), across all replicas. */
export function slotLockResource(slotId: string): string {
  return `slot:${slotId}`;
}
