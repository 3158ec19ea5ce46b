/**
 * Lua scripts of the cache. Each touches keys of one hash slot only (an entry, its generation and its loading lock
 * share the `{key}` hash tag; a tag set and its generation share `{tag}`), so all of them run on a Cluster.
 */

/**
 * Miss path. KEYS: entry, generation, lock. ARGV: token, lock ttl ms, check entry ('1'/'0').
 * Returns `[1, value]` when the entry exists (it landed meanwhile), `[2, generation]` when this caller took the
 * loading lock, `[0, generation]` when another caller holds it.
 */
export const CLAIM_SCRIPT = `
if ARGV[3] == '1' then
  local v = redis.call('GET', KEYS[1])
  if v then return {1, v} end
end
local ok = redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2])
local g = redis.call('GET', KEYS[2]) or '0'
if ok then return {2, g} end
return {0, g}
`;

/**
 * Stores an entry unless it was evicted since the loader started (eviction wins), then releases the lock if this
 * caller holds it. KEYS: entry, generation, lock. ARGV: expected generation ('*' = unconditional), payload, ttl
 * ms, lock token ('' = none). Returns 1 when stored, 0 when refused.
 */
export const STORE_SCRIPT = `
local stored = 0
if ARGV[1] == '*' or (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  stored = 1
end
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
return stored
`;

/** Releases the loading lock if this caller holds it. KEYS: lock. ARGV: token. */
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Evicts an entry and bumps its generation. KEYS: entry, generation. ARGV: generation ttl ms. */
export const EVICT_SCRIPT = `
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
`;

/**
 * Adds an entry key to a tag set, keeps the set alive at least as long as the entry, and returns the tag's
 * generation. KEYS: tag set, tag generation. ARGV: entry key, ttl ms.
 */
export const TAG_ADD_SCRIPT = `
redis.call('SADD', KEYS[1], ARGV[1])
local t = redis.call('PTTL', KEYS[1])
if t == -1 or t < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('GET', KEYS[2]) or '0'
`;

/**
 * Starts a tag invalidation: bumps the tag's generation, takes and deletes its member set. KEYS: tag set, tag
 * generation. ARGV: generation ttl ms. Returns the entry keys to evict.
 */
export const TAG_INVALIDATE_SCRIPT = `
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members
`;
