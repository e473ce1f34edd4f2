import { LuaScript } from './lua-script.js';

/**
 * KEYS[1] lease, KEYS[2] epoch, KEYS[3] meta; ARGV[1] identity, ARGV[2] TTL ms.
 * Takes the lease when it is free (or already ours), increments the epoch in the
 * same step and records epoch + leader in meta: `{1, epoch}`. When someone else
 * holds it: `{0, holder}`.
 */
export const ACQUIRE_LEASE = new LuaScript(
  'acquire-lease',
  `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return {0, holder} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local epoch = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], 'epoch', epoch, 'leader', ARGV[1])
return {1, epoch}
`,
  3,
);

/** KEYS[1] lease; ARGV[1] identity, ARGV[2] TTL ms. Extends the lease only if ours: `{1, ''}`, else `{0, holder}`. */
export const RENEW_LEASE = new LuaScript(
  'renew-lease',
  `
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then return {0, holder or ''} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, ''}
`,
  1,
);

/** KEYS[1] lease; ARGV[1] identity. Deletes the lease only if ours: `{1, ''}`, else `{0, holder}`. */
export const RELEASE_LEASE = new LuaScript(
  'release-lease',
  `
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then return {0, holder or ''} end
redis.call('DEL', KEYS[1])
return {1, ''}
`,
  1,
);
