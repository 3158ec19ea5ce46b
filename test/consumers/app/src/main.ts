import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { closeConsumerApp, CONSUMER_CHECKS } from './consumer-checks.js';
import { startConsumerApp } from './consumer-app.js';
import { MODULE_LOADING_CHECKS } from './module-loading.checks.js';

/**
 * Boots the consumer app as `node dist/main` would in production, runs every check and prints one line per check
 * (`ok - <name>` or `not ok - <name> - <reason>`); exits non-zero if any failed.
 */
async function main(): Promise<void> {
  const app = await startConsumerApp(await NestFactory.create(AppModule, { logger: ['error', 'warn'] }));
  let failures = 0;
  for (const check of [...MODULE_LOADING_CHECKS, ...CONSUMER_CHECKS]) {
    try {
      await check.run(app);
      process.stdout.write(`ok - ${check.name}\n`);
    } catch (error) {
      failures += 1;
      const reason = error instanceof Error ? error.message : String(error);
      process.stdout.write(`not ok - ${check.name} - ${reason.replace(/\s+/g, ' ')}\n`);
    }
  }
  await closeConsumerApp(app);
  process.exitCode = failures > 0 ? 1 : 0;
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
