import { LuaScript } from './lua-script.js';
import { ReplyCode } from './reply-code.js';

/**
 * KEYS[1] lease, KEYS[2] epoch, KEYS[3] meta; ARGV[1] identity, ARGV[2] TTL ms,
 * ARGV[3] epoch floor (the highest epoch the caller has seen; 0 = none).
 * Takes the lease when it is free (or already ours), increments the epoch in the
 * same step and records epoch + leader in meta: `{ReplyCode.ok, epoch}`. When someone
 * else holds it: `{ReplyCode.notHolder, holder, epoch}` (so standbys learn the epoch
 * while they wait).
 *
 * An epoch below the floor means Redis lost its data (restarted empty, or replaced
 * by an older copy): the epoch continues from the floor, so no epoch is ever handed
 * out twice (a writer of the old life stays fenced), and meta.seq jumps to the
 * server's clock in milliseconds, so every envelope of the new life has a seq above
 * those of the old one (which began at 0 or at an earlier such jump and would need
 * more than 1,000 envelopes a second on average to catch up): gateways and clients
 * see a gap or a newer resync, never old seqs reused. It also deletes meta.syncedAt:
 * whatever state survived (an older copy) is of another life, and a new leader that
 * finds no syncedAt rebuilds (one swap + resync) instead of diffing against it.
 */
export const ACQUIRE_LEASE = new LuaScript(
  'acquire-lease',
  `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return {${ReplyCode.notHolder}, holder, tonumber(redis.call('GET', KEYS[2]) or '0')} end
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
local floor = tonumber(ARGV[3] or '0') or 0
if current < floor then
  redis.call('SET', KEYS[2], floor)
  local t = redis.call('TIME')
  local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if tonumber(redis.call('HGET', KEYS[3], 'seq') or '0') < ms then
    redis.call('HSET', KEYS[3], 'seq', string.format('%d', ms))
  end
  redis.call('HDEL', KEYS[3], 'syncedAt')
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local epoch = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], 'epoch', epoch, 'leader', ARGV[1])
return {${ReplyCode.ok}, epoch}
`,
  3,
);

/** KEYS[1] lease; ARGV[1] identity, ARGV[2] TTL ms. Extends the lease only if ours: `{ReplyCode.ok, ''}`, else `{ReplyCode.notHolder, holder}`. */
export const RENEW_LEASE = new LuaScript(
  'renew-lease',
  `
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then return {${ReplyCode.notHolder}, holder or ''} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {${ReplyCode.ok}, ''}
`,
  1,
);

/** KEYS[1] lease; ARGV[1] identity. Deletes the lease only if ours: `{ReplyCode.ok, ''}`, else `{ReplyCode.notHolder, holder}`. */
export const RELEASE_LEASE = new LuaScript(
  'release-lease',
  `
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then return {${ReplyCode.notHolder}, holder or ''} end
redis.call('DEL', KEYS[1])
return {${ReplyCode.ok}, ''}
`,
  1,
);
