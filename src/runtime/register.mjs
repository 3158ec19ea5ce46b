/**
 * `node --import ./src/runtime/register.mjs file.ts` runs a TypeScript entry point of this repository.
 * Source maps are honoured so stack traces point at the `.ts` lines.
 */
import { register } from 'node:module';
import process from 'node:process';

process.setSourceMapsEnabled(true);
register('./ts-loader.mjs', import.meta.url);
