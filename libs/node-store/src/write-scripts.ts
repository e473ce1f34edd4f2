import { INCIDENT_EVENT_FIELD } from '@knm/contracts';
import { EMPTY_ALLOCATION_JSON } from './allocation-json.js';
import { LuaScript } from './lua-script.js';
import { ReplyCode } from './reply-code.js';

/**
 * Incident transitions the outbox keeps (approximately): far more than a dispatcher
 * that is down for a while leaves unread, while bounding a cluster that flaps forever.
 */
const OUTBOX_MAXLEN = 10_000;

/**
 * How envelopes are published on `knm:{c}:changes`:
 * - `classic`: PUBLISH / SUBSCRIBE. On a Redis Cluster every message goes to every node.
 * - `sharded`: SPUBLISH / SSUBSCRIBE (Redis >= 7). Only the shard that owns the
 *   cluster's slot carries it; a Cluster subscriber needs ioredis `shardedSubscribers: true`.
 * Writer and subscribers of one installation must use the same mode.
 */
export type PubSubMode = 'classic' | 'sharded';

type PublishCommand = 'PUBLISH' | 'SPUBLISH';

/**
 * The writer's Lua scripts. Fixed key positions shared by all of them:
 * KEYS[1] epoch, KEYS[2] meta, KEYS[3] events stream, KEYS[4] changes channel
 * (a channel is not a key, but passing it in KEYS keeps everything routable), then
 * script-specific keys. ARGV[1] the writer's epoch, ARGV[2] events MAXLEN,
 * ARGV[3] now (RFC 3339), then script-specific arguments.
 *
 * Every script first checks the fence and returns `{ReplyCode.fenced, currentEpoch}`
 * without touching anything when it fails; success is `{ReplyCode.ok, seq}`. Scripts
 * validate all their inputs before the first write, because Redis does not roll back
 * a script that errors half-way.
 */
const prelude = (publish: PublishCommand): string => `
local function fenced()
  local current = redis.call('GET', KEYS[1])
  if current ~= ARGV[1] then return {${ReplyCode.fenced}, current or ''} end
  return nil
end

local function currentSeq()
  return tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
end

-- Stream IDs are <seq>-0. If meta lost its seq while the stream survived (a single key
-- evicted), continue after the stream's last entry instead of failing the XADD.
local function alignSeq()
  local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
  if #last == 0 then return end
  local lastSeq = tonumber(string.match(last[1][1], '^(%d+)-'))
  if lastSeq and lastSeq > currentSeq() then redis.call('HSET', KEYS[2], 'seq', lastSeq) end
end

local function emit(body)
  local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
  local json = '{"seq":' .. seq .. ',' .. body
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', json)
  redis.call('${publish}', KEYS[4], json)
  redis.call('HSET', KEYS[2], 'lastEventAt', ARGV[3])
  return seq
end
`;

/**
 * KEYS[5] nodes, KEYS[6] incident trackers, KEYS[7] incidents (sorted set), KEYS[8]
 * incident data, KEYS[9] the incident outbox (stream), then KEYS[9 + k] the history
 * stream of the k-th group's node.
 * ARGV[4] history MAXLEN, ARGV[5] history MINID (ms: entries older are trimmed),
 * ARGV[6] history TTL (ms), ARGV[7] incident cutoff (ms: incidents that ended before
 * are removed), then one group per change: op (`a` add / `u` update / `d` delete),
 * node name, snapshot JSON ('' for delete), body head, body tail, expected state (SHA-1
 * of the stored snapshot JSON .. newline .. stored tracker JSON, '' for absent ones),
 * the node's new tracker JSON ('' = none), the number H of history records, H record
 * JSONs, the number I of incidents, I triples: id, Incident JSON, score (end in ms or
 * `+inf`), the number T of incident transitions (an incident opened or resolved), T
 * IncidentTransition JSONs.
 *
 * One envelope per group (head .. snapshot .. tail), in order, and in the same step
 * the node's history records, incidents and incident transitions (appended to the
 * outbox the notification dispatcher reads, capped at OUTBOX_MAXLEN). Before any write every group's expected
 * state is compared with what Redis holds (following earlier groups of the call for
 * the same node): a mismatch returns `{ReplyCode.stale, node}` and writes nothing,
 * so history is only ever written from the very state it was derived from: two
 * writers, or a writer and its successor, can neither double nor skip an entry.
 */
const applyNodesScript = (publish: PublishCommand): LuaScript =>
  new LuaScript(
    'apply-nodes',
    `${prelude(publish)}
local f = fenced()
if f then return f end
local groups = {}
local state = {}
local i = 8
while i <= #ARGV do
  local g = { op = ARGV[i], name = ARGV[i + 1], json = ARGV[i + 2], head = ARGV[i + 3], tail = ARGV[i + 4],
    expect = ARGV[i + 5], tracker = ARGV[i + 6], key = KEYS[10 + #groups] }
  g.nh = tonumber(ARGV[i + 7])
  if not g.nh or not g.key then return redis.error_reply('malformed history arguments of ' .. tostring(g.name)) end
  g.hist = i + 8
  g.ni = tonumber(ARGV[g.hist + g.nh])
  if not g.ni then return redis.error_reply('malformed incident arguments of ' .. g.name) end
  g.inc = g.hist + g.nh + 1
  g.nt = tonumber(ARGV[g.inc + 3 * g.ni])
  if not g.nt then return redis.error_reply('malformed transition arguments of ' .. g.name) end
  g.tr = g.inc + 3 * g.ni + 1
  i = g.tr + g.nt
  if i > #ARGV + 1 then return redis.error_reply('truncated arguments of ' .. g.name) end
  local cur = state[g.name]
  if not cur then cur = (redis.call('HGET', KEYS[5], g.name) or '') .. '\\n' .. (redis.call('HGET', KEYS[6], g.name) or '') end
  if redis.sha1hex(cur) ~= g.expect then return {${ReplyCode.stale}, g.name} end
  state[g.name] = g.json .. '\\n' .. g.tracker
  groups[#groups + 1] = g
end
if #groups ~= #KEYS - 9 then return redis.error_reply('history keys do not match the changes') end
alignSeq()
local seq = currentSeq()
for _, g in ipairs(groups) do
  if g.op == 'd' then
    redis.call('HDEL', KEYS[5], g.name)
  else
    redis.call('HSET', KEYS[5], g.name, g.json)
  end
  seq = emit(g.head .. g.json .. g.tail)
  if g.tracker == '' then redis.call('HDEL', KEYS[6], g.name) else redis.call('HSET', KEYS[6], g.name, g.tracker) end
  for h = g.hist, g.hist + g.nh - 1 do
    redis.call('XADD', g.key, 'MINID', '~', ARGV[5], '*', 'h', ARGV[h])
  end
  if g.nh > 0 then
    redis.call('XTRIM', g.key, 'MAXLEN', '~', ARGV[4])
    redis.call('PEXPIRE', g.key, ARGV[6])
  end
  for n = g.inc, g.inc + 3 * (g.ni - 1), 3 do
    redis.call('HSET', KEYS[8], ARGV[n], ARGV[n + 1])
    redis.call('ZADD', KEYS[7], ARGV[n + 2], ARGV[n])
  end
  for t = g.tr, g.tr + g.nt - 1 do
    redis.call('XADD', KEYS[9], 'MAXLEN', '~', ${OUTBOX_MAXLEN}, '*', '${INCIDENT_EVENT_FIELD}', ARGV[t])
  end
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', '(' .. ARGV[7], 'LIMIT', 0, 100)
for _, id in ipairs(expired) do
  redis.call('HDEL', KEYS[8], id)
  redis.call('ZREM', KEYS[7], id)
end
redis.call('HSET', KEYS[2], 'nodeCount', redis.call('HLEN', KEYS[5]))
return {${ReplyCode.ok}, seq}
`,
    'variable',
  );

/**
 * KEYS[5] pods, KEYS[6] allocation. ARGV[4] pod_counts body head, ARGV[5] its tail,
 * ARGV[6] allocation body head, ARGV[7] its tail, ARGV[8] the number N of count
 * triples, then N triples: node name, its JSON-quoted form, integer delta (non-zero);
 * then allocation triples: node name, its JSON-quoted form, the node's new
 * NodeAllocation JSON in its canonical form ('' = nothing left).
 *
 * Counts: a count that reaches 0 or below is HDEL'd and reported as 0; meta.podCount
 * moves by the real change, so it stays the sum of the pods hash. The reply
 * `{ReplyCode.ok, seq}` is followed by the names of the nodes whose count would have
 * gone below 0 (the caller's deltas disagree with the stored counts). Allocation: a node
 * whose stored JSON equals the new one is left alone; the others are HSET (HDEL'd
 * when empty). One `pod_counts` envelope when any count moved, then one `allocation`
 * envelope with the absolute allocation of the nodes that changed, each with its
 * own seq: the pods' counts and sums move in one step.
 */
const applyPodDeltasScript = (publish: PublishCommand): LuaScript =>
  new LuaScript(
    'apply-pod-deltas',
    `${prelude(publish)}
local f = fenced()
if f then return f end
local n = tonumber(ARGV[8])
if not n or n < 0 or 8 + 3 * n > #ARGV or (#ARGV - 8 - 3 * n) % 3 ~= 0 then
  return redis.error_reply('malformed pod delta arguments')
end
local allocStart = 9 + 3 * n
for i = 9, allocStart - 1, 3 do
  if not string.match(ARGV[i + 2], '^-?%d+$') then return redis.error_reply('delta of ' .. ARGV[i] .. ' is not an integer') end
  local stored = redis.call('HGET', KEYS[5], ARGV[i])
  if stored and not string.match(stored, '^-?%d+$') then
    return redis.error_reply('pod count of ' .. ARGV[i] .. ' is not an integer: ' .. stored)
  end
end
alignSeq()
local seq = currentSeq()
local parts = {}
local total = 0
local underflows = {}
for i = 9, allocStart - 1, 3 do
  local delta = tonumber(ARGV[i + 2])
  local raw = redis.call('HINCRBY', KEYS[5], ARGV[i], delta)
  local new = raw
  if raw <= 0 then
    redis.call('HDEL', KEYS[5], ARGV[i])
    new = 0
  end
  if raw < 0 then underflows[#underflows + 1] = ARGV[i] end
  total = total + (new - (raw - delta))
  parts[#parts + 1] = ARGV[i + 1] .. ':' .. new
end
if #parts > 0 then
  if total ~= 0 then redis.call('HINCRBY', KEYS[2], 'podCount', total) end
  seq = emit(ARGV[4] .. table.concat(parts, ',') .. ARGV[5])
end
local changed = {}
for i = allocStart, #ARGV, 3 do
  local json = ARGV[i + 2]
  local stored = redis.call('HGET', KEYS[6], ARGV[i])
  if json == '' then
    if stored then
      redis.call('HDEL', KEYS[6], ARGV[i])
      changed[#changed + 1] = ARGV[i + 1] .. ':${EMPTY_ALLOCATION_JSON}'
    end
  elseif stored ~= json then
    redis.call('HSET', KEYS[6], ARGV[i], json)
    changed[#changed + 1] = ARGV[i + 1] .. ':' .. json
  end
end
if #changed > 0 then seq = emit(ARGV[6] .. table.concat(changed, ',') .. ARGV[7]) end
local reply = {${ReplyCode.ok}, seq}
for _, name in ipairs(underflows) do reply[#reply + 1] = name end
return reply
`,
    6,
  );

/**
 * KEYS[5] usage, KEYS[6] usage by node. ARGV[4] UsageSnapshot JSON, ARGV[5] body
 * head, ARGV[6] body tail, then pairs of field and JSON for the by-node hash (the
 * poll without its nodes, then each node's usage). Replaces the usage snapshot and
 * its by-node hash and emits one `usage` envelope carrying it.
 */
const setUsageScript = (publish: PublishCommand): LuaScript =>
  new LuaScript(
    'set-usage',
    `${prelude(publish)}
local f = fenced()
if f then return f end
alignSeq()
redis.call('SET', KEYS[5], ARGV[4])
redis.call('DEL', KEYS[6])
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[6], ARGV[i], ARGV[i + 1]) end
local seq = emit(ARGV[5] .. ARGV[4] .. ARGV[6])
return {${ReplyCode.ok}, seq}
`,
    6,
  );

/**
 * ARGV[4] status, ARGV[5] error ('' = none), ARGV[6] leader identity, ARGV[7] body
 * head, ARGV[8] body tail. Emits a cluster_status envelope (with nodeCount, podCount
 * and syncedAt from meta) only when status or error changed; returns the seq either way.
 */
const setStatusScript = (publish: PublishCommand): LuaScript =>
  new LuaScript(
    'set-status',
    `${prelude(publish)}
local f = fenced()
if f then return f end
local cur = redis.call('HMGET', KEYS[2], 'status', 'error')
redis.call('HSET', KEYS[2], 'leader', ARGV[6])
if cur[1] == ARGV[4] and (cur[2] or '') == ARGV[5] then return {${ReplyCode.ok}, currentSeq()} end
alignSeq()
redis.call('HSET', KEYS[2], 'status', ARGV[4])
if ARGV[5] == '' then redis.call('HDEL', KEYS[2], 'error') else redis.call('HSET', KEYS[2], 'error', ARGV[5]) end
local m = redis.call('HMGET', KEYS[2], 'nodeCount', 'podCount', 'syncedAt')
local extra = ''
if m[1] and string.match(m[1], '^%d+$') then extra = extra .. ',"nodeCount":' .. m[1] end
if m[2] and string.match(m[2], '^%d+$') then extra = extra .. ',"podCount":' .. m[2] end
if m[3] and string.match(m[3], '^[0-9TZ:.+-]+$') then extra = extra .. ',"syncedAt":"' .. m[3] .. '"' end
local seq = emit(ARGV[7] .. extra .. ARGV[8])
return {${ReplyCode.ok}, seq}
`,
    4,
  );

/**
 * KEYS[5] the node's pods key (`nodePodsPrefix + node`), KEYS[6] the pods-replies
 * channel. ARGV[4] NodePodsResponse JSON, ARGV[5] its TTL in ms, ARGV[6] the
 * NodePodsReady message. Stores the answer with its TTL and tells the gateways it is
 * there; no envelope (an answer to one request is not a change of the cluster).
 */
const storeNodePodsScript = (publish: PublishCommand): LuaScript =>
  new LuaScript(
    'store-node-pods',
    `${prelude(publish)}
local f = fenced()
if f then return f end
redis.call('SET', KEYS[5], ARGV[4], 'PX', ARGV[5])
redis.call('${publish}', KEYS[6], ARGV[6])
return {${ReplyCode.ok}, currentSeq()}
`,
    6,
  );

/** Only the fence check: `{ReplyCode.ok, seq}` with the current seq, nothing written. */
const currentSeqScript = (publish: PublishCommand): LuaScript =>
  new LuaScript(
    'current-seq',
    `${prelude(publish)}
local f = fenced()
if f then return f end
return {${ReplyCode.ok}, currentSeq()}
`,
    4,
  );

/** ARGV[4] leader identity. Sets meta.heartbeatAt, leader and epoch; no envelope. */
const heartbeatScript = (publish: PublishCommand): LuaScript =>
  new LuaScript(
    'heartbeat',
    `${prelude(publish)}
local f = fenced()
if f then return f end
redis.call('HSET', KEYS[2], 'heartbeatAt', ARGV[3], 'leader', ARGV[4], 'epoch', ARGV[1])
return {${ReplyCode.ok}, currentSeq()}
`,
    4,
  );

/**
 * ARGV[4] the time (RFC 3339, UTC) a list completed. Sets meta.syncedAt to it unless
 * meta already holds a later one (an older list never moves it back); no envelope.
 * RFC 3339 UTC times of one format order as strings, so Lua compares them as such.
 */
const markSyncedScript = (publish: PublishCommand): LuaScript =>
  new LuaScript(
    'mark-synced',
    `${prelude(publish)}
local f = fenced()
if f then return f end
local cur = redis.call('HGET', KEYS[2], 'syncedAt')
if not cur or ARGV[4] > cur then redis.call('HSET', KEYS[2], 'syncedAt', ARGV[4]) end
return {${ReplyCode.ok}, currentSeq()}
`,
    4,
  );

/**
 * KEYS[5] nodes, KEYS[6] pods, KEYS[7] allocation, KEYS[8] staged nodes, KEYS[9]
 * staged pods, KEYS[10] staged allocation (same slot). ARGV[4] expected staged node
 * count, ARGV[5] expected staged pod entries, ARGV[6] pod total, ARGV[7] leader
 * identity, ARGV[8] resync body, ARGV[9] expected staged allocation entries. Swaps
 * the staged hashes over the live ones (readers see all-old or all-new), sets meta
 * (status ready, syncedAt, heartbeatAt, totals) and emits one resync envelope.
 * Staging keys are deleted when fenced or incomplete (`{ReplyCode.stagingLost, detail}`).
 */
const rebuildSwapScript = (publish: PublishCommand): LuaScript =>
  new LuaScript(
    'rebuild-swap',
    `${prelude(publish)}
local f = fenced()
if f then
  redis.call('DEL', KEYS[8], KEYS[9], KEYS[10])
  return f
end
local stagedNodes = redis.call('HLEN', KEYS[8])
local stagedPods = redis.call('HLEN', KEYS[9])
local stagedAllocation = redis.call('HLEN', KEYS[10])
if stagedNodes ~= tonumber(ARGV[4]) or stagedPods ~= tonumber(ARGV[5]) or stagedAllocation ~= tonumber(ARGV[9]) then
  redis.call('DEL', KEYS[8], KEYS[9], KEYS[10])
  return {${ReplyCode.stagingLost}, 'staged ' .. stagedNodes .. '/' .. ARGV[4] .. ' nodes, ' .. stagedPods .. '/' .. ARGV[5] ..
    ' pod counts, ' .. stagedAllocation .. '/' .. ARGV[9] .. ' allocations'}
end
alignSeq()
redis.call('UNLINK', KEYS[5], KEYS[6], KEYS[7])
for i = 0, 2 do
  if redis.call('HLEN', KEYS[8 + i]) > 0 then
    redis.call('RENAME', KEYS[8 + i], KEYS[5 + i])
    redis.call('PERSIST', KEYS[5 + i])
  end
end
redis.call('HSET', KEYS[2], 'status', 'ready', 'syncedAt', ARGV[3], 'heartbeatAt', ARGV[3],
  'nodeCount', ARGV[4], 'podCount', ARGV[6], 'leader', ARGV[7], 'epoch', ARGV[1])
redis.call('HDEL', KEYS[2], 'error')
local seq = emit(ARGV[8])
return {${ReplyCode.ok}, seq}
`,
    10,
  );

/** The writer's scripts for one publish mode. */
export interface WriteScripts {
  readonly applyNodes: LuaScript;
  readonly applyPodDeltas: LuaScript;
  readonly setUsage: LuaScript;
  readonly storeNodePods: LuaScript;
  readonly setStatus: LuaScript;
  readonly heartbeat: LuaScript;
  readonly rebuildSwap: LuaScript;
  readonly currentSeq: LuaScript;
  readonly markSynced: LuaScript;
}

function writeScripts(publish: PublishCommand): WriteScripts {
  return {
    applyNodes: applyNodesScript(publish),
    applyPodDeltas: applyPodDeltasScript(publish),
    setUsage: setUsageScript(publish),
    storeNodePods: storeNodePodsScript(publish),
    setStatus: setStatusScript(publish),
    heartbeat: heartbeatScript(publish),
    rebuildSwap: rebuildSwapScript(publish),
    currentSeq: currentSeqScript(publish),
    markSynced: markSyncedScript(publish),
  };
}

/** The writer's scripts per publish mode (the two variants differ only in PUBLISH vs SPUBLISH). */
export const WRITE_SCRIPTS: Readonly<Record<PubSubMode, WriteScripts>> = {
  classic: writeScripts('PUBLISH'),
  sharded: writeScripts('SPUBLISH'),
};
