import {
  fail,
  isPlainObject,
  optionalDuration,
  optionalObject,
  optionalString,
  rejectUnknownKeys,
} from '../options/option-checks.js';
import { DEFAULT_REDIS_CONNECTION } from '../redis.constants.js';
import type {
  RateLimitFailurePolicy,
  ResolvedPolicy,
  ResolvedRateLimit,
  ResolvedRateLimitOptions,
} from './rate-limit-options.interface.js';

/** Defaults of `RateLimitModule`, kept in one place. */
export const RATE_LIMIT_DEFAULTS = {
  connection: DEFAULT_REDIS_CONNECTION,
  failurePolicy: 'fail-open' as RateLimitFailurePolicy,
  commandTimeout: 250,
  period: 1_000,
} as const;

const MODULE_KEYS = ['connection', 'failurePolicy', 'commandTimeout', 'limits', 'throttler'];
const POLICY_KEYS = ['failurePolicy', 'commandTimeout'];
const WINDOW_KEYS = ['algorithm', 'limit', 'window', ...POLICY_KEYS];
const BUCKET_KEYS = ['algorithm', 'burst', 'rate', 'period', ...POLICY_KEYS];
const ALGORITHMS = ['fixed-window', 'sliding-window', 'token-bucket'];
/** Field paths start here, so a message reads `Invalid RedisModule option "rateLimit.limits.api.window"`. */
const ROOT = 'rateLimit';
const MAX_UNITS = 1_000_000_000;
const MAX_COMMAND_TIMEOUT = 60_000;
/** Longest window or period: 30 days. */
const MAX_WINDOW = 30 * 86_400_000;

function policyOf(value: unknown, field: string): RateLimitFailurePolicy | undefined {
  if (value === undefined) return undefined;
  if (value !== 'fail-open' && value !== 'fail-closed') fail(field, "'fail-open' or 'fail-closed'", value);
  return value;
}

function resolvePolicy(raw: Record<string, unknown>, path: string, defaults: ResolvedPolicy): ResolvedPolicy {
  return {
    failurePolicy: policyOf(raw.failurePolicy, `${path}.failurePolicy`) ?? defaults.failurePolicy,
    commandTimeout:
      optionalDuration(raw.commandTimeout, `${path}.commandTimeout`, { max: MAX_COMMAND_TIMEOUT }) ??
      defaults.commandTimeout,
  };
}

function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_UNITS) {
    fail(field, `an integer between 1 and ${MAX_UNITS}`, value);
  }
  return value;
}

function requiredDuration(value: unknown, field: string): number {
  if (value === undefined) fail(field, 'an integer number of milliseconds (required)');
  return optionalDuration(value, field, { max: MAX_WINDOW }) as number;
}

function resolveLimit(name: string, raw: unknown, defaults: ResolvedPolicy): ResolvedRateLimit {
  const path = `${ROOT}.limits.${name}`;
  if (!isPlainObject(raw)) fail(path, 'a plain object with an "algorithm"', raw);
  const { algorithm } = raw;
  if (typeof algorithm !== 'string' || !ALGORITHMS.includes(algorithm)) {
    fail(`${path}.algorithm`, ALGORITHMS.map((a) => `'${a}'`).join(', '), algorithm);
  }
  const policy = resolvePolicy(raw, path, defaults);
  if (algorithm === 'token-bucket') {
    rejectUnknownKeys(raw, BUCKET_KEYS, path);
    const { rate } = raw;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > MAX_UNITS) {
      fail(`${path}.rate`, `a number of units per period above 0 and at most ${MAX_UNITS}`, rate);
    }
    const period = optionalDuration(raw.period, `${path}.period`, { max: MAX_WINDOW }) ?? RATE_LIMIT_DEFAULTS.period;
    return { name, algorithm, burst: positiveInteger(raw.burst, `${path}.burst`), rate, period, policy };
  }
  rejectUnknownKeys(raw, WINDOW_KEYS, path);
  return {
    name,
    algorithm: algorithm as 'fixed-window' | 'sliding-window',
    limit: positiveInteger(raw.limit, `${path}.limit`),
    window: requiredDuration(raw.window, `${path}.window`),
    policy,
  };
}

/**
 * Validates and normalises `RateLimitModule` options, throwing a `RedisOptionsError` that names the field (for
 * example `limits.partnerApi.window`). Called by the module's options provider, so `forRootAsync` is checked too.
 */
export function resolveRateLimitOptions(raw: unknown): ResolvedRateLimitOptions {
  const options = optionalObject(raw ?? {}, ROOT) as Record<string, unknown>;
  rejectUnknownKeys(options, MODULE_KEYS, ROOT);
  const defaults = resolvePolicy(options, ROOT, {
    failurePolicy: RATE_LIMIT_DEFAULTS.failurePolicy,
    commandTimeout: RATE_LIMIT_DEFAULTS.commandTimeout,
  });
  const connection =
    optionalString(options.connection, `${ROOT}.connection`, { nonEmpty: true }) ?? RATE_LIMIT_DEFAULTS.connection;
  const limits = new Map<string, ResolvedRateLimit>();
  for (const [name, limit] of Object.entries(optionalObject(options.limits, `${ROOT}.limits`) ?? {})) {
    if (name.length === 0) fail(`${ROOT}.limits`, 'non-empty limit names');
    limits.set(name, resolveLimit(name, limit, defaults));
  }
  const throttlerRaw = optionalObject(options.throttler, `${ROOT}.throttler`) ?? {};
  rejectUnknownKeys(throttlerRaw, POLICY_KEYS, `${ROOT}.throttler`);
  const throttler = resolvePolicy(throttlerRaw, `${ROOT}.throttler`, defaults);
  const timeouts = [throttler.commandTimeout, ...[...limits.values()].map((l) => l.policy.commandTimeout)];
  return { connection, limits, throttler, shortestTimeout: Math.min(...timeouts) };
}
