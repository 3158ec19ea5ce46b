/** Injection token of the job's `HoldsReleaseRepository`, or `null` when no database is configured. */
export const HOLDS_RELEASE_REPOSITORY = 'booking-worker:holds-release-repository';
