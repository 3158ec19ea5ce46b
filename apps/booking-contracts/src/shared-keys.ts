/**
 * Cache tag shared by everything booking-api caches about one venue; evicting it refreshes the venue's availability.
 * Here because booking-worker evicts it too, after releasing expired holds.
 */
export function venueCacheTag(venueId: string): string {
  return `venue:${venueId}`;
}

/**
 * Key (under the shared `REDIS_KEY_PREFIX`) of the sorted set of live holds scored by their expiry (epoch ms):
 * booking-api adds a hold when it is placed and removes it when it ends; booking-worker's release job reads it to
 * touch the database only on ticks when a hold is due.
 */
export const EXPIRING_HOLDS_KEY = 'holds:expiring';
