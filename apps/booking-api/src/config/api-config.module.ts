import { Module } from '@nestjs/common';
import { API_CONFIG } from './api-config.constants.js';
import { loadApiConfig } from './load-api-config.js';

/**
 * Provides {@link API_CONFIG}, read from `process.env` when the container is built (not at import time), so a test
 * can set variables or override the provider before compiling the module.
 */
@Module({
  providers: [{ provide: API_CONFIG, useFactory: () => loadApiConfig(process.env) }],
  exports: [API_CONFIG],
})
export class ApiConfigModule {}
