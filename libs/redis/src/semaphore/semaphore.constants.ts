/** Metadata key of `@WithSemaphore` (the options, on the decorated method). */
export const WITH_SEMAPHORE_METADATA = '@localcloudlab/nest-redis:with-semaphore';
