export {
  BOOKING_CANCELLED,
  BOOKING_CREATED,
  type BookingCancelledEvent,
  type BookingCreatedEvent,
  type BookingEventMap,
  type BookingEventName,
} from './booking-events.js';
export { canonicalUuid } from './canonical-uuid.js';
export { InvalidBookingEventError, parseBookingCancelled, parseBookingCreated } from './booking-event.validators.js';
export { EXPIRING_HOLDS_KEY, venueCacheTag } from './shared-keys.js';
