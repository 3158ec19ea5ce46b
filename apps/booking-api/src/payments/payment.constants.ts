/** Payment calls in flight at once across every booking-api replica (the provider's concurrency allowance). */
export const PAYMENT_PERMITS = 3;
/** Semaphore resource of the payment provider. */
export const PAYMENT_SEMAPHORE = 'payment-provider';
