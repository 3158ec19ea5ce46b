import {
  fail,
  isPlainObject,
  optionalBoolean,
  optionalDuration,
  optionalObject,
  rejectUnknownKeys,
} from '../options/option-checks.js';
import type { ResolvedLeaderOptions } from './leader-options.interface.js';

const OPTION_KEYS = ['elections', 'ttl', 'retryDelay', 'retryJitter', 'autoStart'];
const ELECTION_KEYS = ['name', 'ttl'];
const MAX_NAME_LENGTH = 256;
/** Shortest lease: below it, one slow round trip or a GC pause loses the role. */
const MIN_TTL_MS = 100;
/** Longest lease: the lock watchdog's own bound. */
const MAX_TTL_MS = 3_600_000;

/** Defaults of `RedisLeaderModule.forRoot` options. */
export const LEADER_DEFAULTS = { ttl: 10_000, retryDelay: 100, retryJitter: 50, autoStart: true } as const;

/**
 * Validates and defaults `RedisLeaderModule.forRoot` options.
 * @throws RedisOptionsError naming the field (`leader.ttl`, `leader.elections[1].name`, …)
 */
export function resolveLeaderOptions(raw: unknown): ResolvedLeaderOptions {
  const options = optionalObject(raw, 'leader') ?? {};
  rejectUnknownKeys(options, OPTION_KEYS, 'leader');
  const ttl = optionalDuration(options.ttl, 'leader.ttl', { min: MIN_TTL_MS, max: MAX_TTL_MS }) ?? LEADER_DEFAULTS.ttl;
  const retryDelay =
    optionalDuration(options.retryDelay, 'leader.retryDelay', { min: 1, max: 60_000 }) ?? LEADER_DEFAULTS.retryDelay;
  const retryJitter =
    optionalDuration(options.retryJitter, 'leader.retryJitter', { min: 0, max: 60_000 }) ?? LEADER_DEFAULTS.retryJitter;
  const autoStart = optionalBoolean(options.autoStart, 'leader.autoStart') ?? LEADER_DEFAULTS.autoStart;

  const rawElections = options.elections ?? ['default'];
  if (!Array.isArray(rawElections) || rawElections.length === 0) {
    fail('leader.elections', 'a non-empty array of names or { name, ttl } objects', rawElections);
  }
  const seen = new Set<string>();
  const elections = (rawElections as unknown[]).map((entry, i) => {
    const path = `leader.elections[${i}]`;
    const election = isPlainObject(entry) ? entry : { name: entry };
    if (isPlainObject(entry)) rejectUnknownKeys(entry, ELECTION_KEYS, path);
    const { name } = election;
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
      fail(
        isPlainObject(entry) ? `${path}.name` : path,
        `a non-empty string of at most ${MAX_NAME_LENGTH} characters`,
        name,
      );
    }
    if (seen.has(name)) fail(isPlainObject(entry) ? `${path}.name` : path, 'a name not used by another election');
    seen.add(name);
    const own = optionalDuration(election.ttl, `${path}.ttl`, { min: MIN_TTL_MS, max: MAX_TTL_MS });
    return { name, ttl: own ?? ttl };
  });
  return { elections, retryDelay, retryJitter, autoStart };
}
