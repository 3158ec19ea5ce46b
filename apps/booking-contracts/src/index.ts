export {
  BOOKING_CANCELLED,
  BOOKING_CREATED,
  type BookingCancelledEvent,
  type BookingCreatedEvent,
  type BookingEventMap,
  type BookingEventName,
} from './booking-events.js';
