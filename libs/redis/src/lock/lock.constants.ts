/** Metadata key of `@WithLock` (the options, on the decorated method). */
export const WITH_LOCK_METADATA = '@localcloudlab/nest-redis:with-lock';
