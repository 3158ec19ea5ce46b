import { ValidationPipe, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module.js';
import { rejectDeepJson } from './json-depth.middleware.js';

/** Largest JSON body accepted; a booking request is well under 1 kB. Larger bodies get 413. */
export const MAX_JSON_BODY = '16kb';

/**
 * Applies the settings every booking-api instance needs, whether `main.ts` created it or a test did with
 * `Test.createTestingModule({ imports: [AppModule] }).compile()` and `createNestApplication()`: shutdown hooks,
 * the body size and depth limits, validation (400 listing every reason) and the OpenAPI document at `/docs`.
 *
 * @param app an application that has not been initialised yet
 */
export function configureApp<App extends NestExpressApplication>(app: App): App {
  // SIGTERM from Docker or Kubernetes then closes the app: Redis connections are QUIT, not dropped.
  app.enableShutdownHooks();
  app.useBodyParser('json', { limit: MAX_JSON_BODY });
  app.use(rejectDeepJson);
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }),
  );
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('booking-api')
      .setDescription('Venues, slots and bookings: the demo service of the Redis toolkit for NestJS.')
      .setVersion('1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  return app;
}

/**
 * Creates and configures booking-api without listening, so `main.ts` and tests build the same application.
 *
 * @param options Nest application options (a test passes `{ logger: false }`)
 * @example
 * ```ts
 * const app = await createApp();
 * await app.listen(3000);
 * ```
 */
export async function createApp(options?: NestApplicationOptions): Promise<NestExpressApplication> {
  return configureApp(await NestFactory.create<NestExpressApplication>(AppModule, options));
}
