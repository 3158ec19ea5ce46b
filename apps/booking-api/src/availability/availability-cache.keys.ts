export { venueCacheTag } from '../../../booking-contracts/src/index.js';

/** Cache key of one venue's availability on one day. */
export function availabilityCacheKey(venueId: string, date: string): string {
  return `availability:${venueId}:${date}`;
}
