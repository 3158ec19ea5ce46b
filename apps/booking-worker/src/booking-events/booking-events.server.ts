import type { Provider } from '@nestjs/common';
import { REDIS_MODULE_SETTINGS, RedisInstrumentation, type RedisModuleSettings } from '@app/redis';
import { RedisTransportServer } from '@app/redis/transport';

/** Consumer group of booking-worker: every replica joins it, so each event is handled by one of them. */
export const BOOKING_WORKER_GROUP = 'booking-worker';

/**
 * The Redis transport server that feeds the booking-events handlers: streams mode, group `booking-worker`, on the
 * `RedisModule` connection and key prefix, reporting handler runs and consumer lag to the module's instrumentation
 * (which `/metrics` reads), as `RedisTransportServer.fromApp` would. A provider, rather than built in
 * `configureWorker`, so that the health check can read its streams.
 */
export const bookingEventsServerProvider: Provider = {
  provide: RedisTransportServer,
  inject: [REDIS_MODULE_SETTINGS, RedisInstrumentation],
  useFactory: (moduleOptions: RedisModuleSettings, instrumentation: RedisInstrumentation) => {
    const server = new RedisTransportServer({
      moduleOptions,
      instrumentation,
      mode: 'streams',
      streams: { group: BOOKING_WORKER_GROUP },
    });
    server.reportConsumerLagTo(instrumentation);
    return server;
  },
};
