/** Cache tag shared by everything cached about one venue; evicting it refreshes the venue's availability. */
export function venueCacheTag(venueId: string): string {
  return `venue:${venueId}`;
}

/** Cache key of one venue's availability on one day. */
export function availabilityCacheKey(venueId: string, date: string): string {
  return `availability:${venueId}:${date}`;
}
