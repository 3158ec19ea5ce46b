/** Injection token of the API's {@link ApiConfig}; tests replace it with `overrideProvider(API_CONFIG)`. */
export const API_CONFIG = 'booking-api:config';
