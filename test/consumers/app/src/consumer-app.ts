import type { INestApplication } from '@nestjs/common';
import { RedisTransportServer } from '@localcloudlab/nest-redis/transport';
import { consumerRedisConfig } from './consumer.config.js';

/** Handler runs the transport reported to Nest's processing hooks (the entry points tracing tools use). */
export const processingHookCalls = { started: 0, ended: 0 };

/**
 * Connects the Redis transport server (pub/sub mode, on the app's key prefix), starts it and listens on a free
 * port. Used by main.ts and by the Jest e2e spec, so both exercise the same app.
 */
export async function startConsumerApp<App extends INestApplication>(app: App): Promise<App> {
  const { url, keyPrefix } = consumerRedisConfig();
  const server = new RedisTransportServer({ url, keyPrefix });
  server.setOnProcessingStartHook((_transportId, _context, done) => {
    processingHookCalls.started += 1;
    return done();
  });
  server.setOnProcessingEndHook(() => {
    processingHookCalls.ended += 1;
  });
  app.connectMicroservice({ strategy: server });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  return app;
}
