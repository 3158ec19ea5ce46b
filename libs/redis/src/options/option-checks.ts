import { RedisOptionsError } from '../errors/redis-options.error.js';
import { INVALID_OPTION } from '../redis.messages.js';

/**
 * Small validators used by the options resolvers. Each throws a `RedisOptionsError` naming the field path.
 * Strings are never echoed back in messages: a misplaced value could be a secret.
 */

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'string':
      return value.length === 0 ? 'an empty string' : 'a string';
    default:
      return typeof value;
  }
}

/** Throws for `field`; pass the offending value as third argument to have its type (never a string's text) shown. */
export function fail(field: string, expected: string, ...value: [] | [unknown]): never {
  const got = value.length > 0 ? describeValue(value[0]) : undefined;
  throw new RedisOptionsError(INVALID_OPTION(field, expected, got), field);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function optionalObject(value: unknown, field: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) fail(field, 'a plain object', value);
  return value;
}

export function optionalString(value: unknown, field: string, opts: { nonEmpty?: boolean } = {}): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || (opts.nonEmpty && value.length === 0)) {
    fail(field, opts.nonEmpty ? 'a non-empty string' : 'a string', value);
  }
  return value;
}

export function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(field, 'a boolean', value);
  return value;
}

/** An integer within [min, max]; `unit` names what it counts in the message (`milliseconds`). */
export function optionalInteger(
  value: unknown,
  field: string,
  { min, max, unit }: { min: number; max: number; unit?: string },
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `an integer ${unit ? `number of ${unit} ` : ''}between ${min} and ${max}`, value);
  }
  return value;
}

/** An integer number of milliseconds within [min, max]. */
export function optionalDuration(
  value: unknown,
  field: string,
  { min = 1, max = 86_400_000 }: { min?: number; max?: number } = {},
): number | undefined {
  return optionalInteger(value, field, { min, max, unit: 'milliseconds' });
}

/** Rejects keys the shape does not know, so a typo (`keyprefix`) fails instead of being ignored. */
export function rejectUnknownKeys(obj: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      const field = path ? `${path}.${key}` : key;
      fail(field, `one of the known options (${known.join(', ')})`);
    }
  }
}
