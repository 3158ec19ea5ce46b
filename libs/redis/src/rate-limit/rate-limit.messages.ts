import type { RateLimitFailurePolicy } from './rate-limit-options.interface.js';

export const RATE_LIMIT_NOT_CONNECTED = (status: string): string => `the Redis connection is not ready (${status})`;

export const RATE_LIMIT_TIMEOUT = (ms: number): string => `no answer from Redis within ${ms} ms`;

export const RATE_LIMIT_DEGRADED = (limit: string, reason: string, policy: RateLimitFailurePolicy): string =>
  `Rate limit "${limit}" could not be checked (${reason}); ` +
  (policy === 'fail-open' ? 'allowing calls (fail-open).' : 'refusing calls (fail-closed).');

export const RATE_LIMIT_EXCEEDED = (limit: string, retryAfterMs: number): string =>
  `Rate limit "${limit}" exceeded; retry in ${retryAfterMs} ms.`;

export const RATE_LIMIT_UNAVAILABLE = (limit: string): string =>
  `Rate limit "${limit}" could not be checked and is fail-closed, so the call was refused.`;

export const UNKNOWN_RATE_LIMIT = (limit: string, known: string[]): string =>
  `No rate limit named "${limit}" is configured` +
  (known.length > 0 ? ` (known: ${known.join(', ')}).` : '; add it to RateLimitModule.forRoot({ limits }).');

export const INVALID_COST = (limit: string, max: number): string =>
  `Invalid cost for rate limit "${limit}": expected an integer between 1 and ${max}.`;
