import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

/**
 * Applies the settings every booking-api instance needs, whether `main.ts` created it or a test did with
 * `Test.createTestingModule({ imports: [AppModule] }).compile()` and `createNestApplication()`.
 *
 * @param app an application that has not been initialised yet
 */
export function configureApp<App extends INestApplication>(app: App): App {
  // SIGTERM from Docker or Kubernetes then closes the app: Redis connections are QUIT, not dropped.
  app.enableShutdownHooks();
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
export async function createApp(options?: NestApplicationOptions): Promise<INestApplication> {
  return configureApp(await NestFactory.create(AppModule, options));
}
