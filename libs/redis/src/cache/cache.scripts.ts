import { LuaScript } from '../connection/lua-script.js';

/**
 * Lua scripts of the cache, run with the shared `LuaScript` runner (EVAL once per connection, then EVALSHA; never
 * `defineCommand` on the user's client). Each touches keys of one hash slot only (an entry, its generation and its
 * loading lock share the `{key}` hash tag; a tag set and its generation share `{tag}`), so all of them run on a
 * Cluster.
 */

/**
 * Miss path. KEYS: entry, generation, lock. ARGV: token, lock ttl ms, check entry ('1'/'0').
 * Returns `[1, value]` when the entry exists (it landed meanwhile), `[2, generation]` when this caller took the
 * loading lock, `[0, generation]` when another caller holds it.
 */
const CLAIM_SCRIPT = `
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
 * The miss path of several keys of one hash slot (the CLAIM script for each, one round trip). KEYS: entry 1,
 * generation 1, lock 1, entry 2, … ARGV: lock ttl ms, token 1, check entry 1 ('1'/'0'), token 2, … Returns the
 * CLAIM replies one after the other: kind 1, payload 1, kind 2, payload 2, …
 */
const CLAIM_MANY_SCRIPT = `
local out = {}
for i = 1, #KEYS / 3 do
  local entry, generation, lock = KEYS[i * 3 - 2], KEYS[i * 3 - 1], KEYS[i * 3]
  local found = false
  if ARGV[i * 2 + 1] == '1' then
    local v = redis.call('GET', entry)
    if v then
      out[#out + 1] = 1
      out[#out + 1] = v
      found = true
    end
  end
  if not found then
    local ok = redis.call('SET', lock, ARGV[i * 2], 'NX', 'PX', ARGV[1])
    out[#out + 1] = ok and 2 or 0
    out[#out + 1] = redis.call('GET', generation) or '0'
  end
end
return out
`;

/**
 * Stores an entry unless it was evicted since the loader started (eviction wins), then releases the lock if this
 * caller holds it. KEYS: entry, generation, lock. ARGV: expected generation ('*' = unconditional), payload, ttl
 * ms, lock token ('' = none). Returns 1 when stored, 0 when refused.
 */
const STORE_SCRIPT = `
local stored = 0
if ARGV[1] == '*' or (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  stored = 1
end
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
return stored
`;

/** Releases the loading lock if this caller holds it. KEYS: lock. ARGV: token. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Adds an entry key to a tag set, keeps the set alive at least as long as the entry, and returns the tag's
 * generation. KEYS: tag set, tag generation. ARGV: entry key, ttl ms.
 */
const TAG_ADD_SCRIPT = `
redis.call('SADD', KEYS[1], ARGV[1])
local t = redis.call('PTTL', KEYS[1])
if t == -1 or t < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('GET', KEYS[2]) or '0'
`;

/**
 * Starts a tag invalidation: bumps the tag's generation, takes and deletes its member set. KEYS: tag set, tag
 * generation. ARGV: generation ttl ms. Returns the entry keys to evict.
 */
const TAG_INVALIDATE_SCRIPT = `
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members
`;

/**
 * Evicts entries of one hash slot and bumps their generations (one script per slot, whatever the batch size). KEYS: entry 1, generation
 * 1, entry 2, generation 2, … ARGV: generation ttl ms. Returns how many entries existed.
 */
const EVICT_MANY_SCRIPT = `
local deleted = 0
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i + 1])
  redis.call('PEXPIRE', KEYS[i + 1], ARGV[1])
  deleted = deleted + redis.call('DEL', KEYS[i])
end
return deleted
`;

/**
 * Adds entry keys to a tag set, keeps the set alive at least `ttl`, returns the tag's generation (the batch form
 * of TAG_ADD). KEYS: tag set, tag generation. ARGV: ttl ms, entry key 1, entry key 2, …
 */
const TAG_ADD_MANY_SCRIPT = `
for i = 2, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
local t = redis.call('PTTL', KEYS[1])
if t == -1 or t < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return redis.call('GET', KEYS[2]) or '0'
`;

/**
 * Reads several entries of one hash slot. GETs in a script rather than MGET: the same result in one round trip,
 * within the documented minimal ACL (which has GET and EVALSHA, not MGET). KEYS: the entries. Returns each value,
 * or nil.
 */
const GET_MANY_SCRIPT = `
local values = {}
for i = 1, #KEYS do values[i] = redis.call('GET', KEYS[i]) end
return values
`;

/**
 * Writes several keys of one hash slot, each with its own expiry. KEYS: key 1, key 2, … ARGV: value 1, ttl ms 1,
 * value 2, ttl ms 2, … (ttl '0': no expiry). Returns how many keys were written.
 */
const SET_MANY_SCRIPT = `
for i = 1, #KEYS do
  local ttl = tonumber(ARGV[i * 2])
  if ttl > 0 then redis.call('SET', KEYS[i], ARGV[i * 2 - 1], 'PX', ttl)
  else redis.call('SET', KEYS[i], ARGV[i * 2 - 1]) end
end
return #KEYS
`;

export const CLAIM = new LuaScript('cache-claim', CLAIM_SCRIPT);
export const CLAIM_MANY = new LuaScript('cache-claim-many', CLAIM_MANY_SCRIPT);
export const STORE = new LuaScript('cache-store', STORE_SCRIPT);
export const RELEASE = new LuaScript('cache-release', RELEASE_SCRIPT);
export const TAG_ADD = new LuaScript('cache-tag-add', TAG_ADD_SCRIPT);
export const TAG_INVALIDATE = new LuaScript('cache-tag-invalidate', TAG_INVALIDATE_SCRIPT);
export const EVICT_MANY = new LuaScript('cache-evict-many', EVICT_MANY_SCRIPT);
export const TAG_ADD_MANY = new LuaScript('cache-tag-add-many', TAG_ADD_MANY_SCRIPT);
export const GET_MANY = new LuaScript('cache-get-many', GET_MANY_SCRIPT);
export const SET_MANY = new LuaScript('cache-set-many', SET_MANY_SCRIPT);
