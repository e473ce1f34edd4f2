import type { RedisClient } from '@knm/node-store';
import {
  clusterOfOperationId,
  decodeJson,
  isFinalNodeStatus,
  NodeResultSchema,
  operationKeys,
  OperationSchema,
  type ClusterName,
  type HistoryRecord,
  type Keyspace,
  type NodeResult,
  type Operation,
  type OperationState,
} from '@knm/contracts';
import { z } from 'zod';
import { OperationNotFoundError } from '../errors/operation-not-found-error.js';

/**
 * What {@link OperationStore.requestCancel} did: `cancelled` (it was queued: now final),
 * `requested` (it is running: its runner stops it), `final` (it had finished: nothing),
 * `missing` (no such operation, or it expired).
 */
export type CancelOutcome = 'cancelled' | 'requested' | 'final' | 'missing';

/** Options of {@link OperationStore}. */
export interface OperationStoreOptions {
  /** How long an operation's keys live after its last write. Default 7 days. */
  retentionSeconds?: number;
  /** Operations kept in a cluster's recent list (older ones drop out of it). Default 1,000. */
  maxPerCluster?: number;
  /** Days a node's history entries are kept (the watcher's `KNM_HISTORY_DAYS`). Default 30. */
  historyDays?: number;
  /** Approximate cap of entries per node history stream. Default 1,000. */
  historyMaxLen?: number;
}

/** What a node's history says of the operation whose result is written: its action and creator. */
export interface ResultAbout {
  action: string;
  by: string;
}

/** The static part of an operation, written once at creation (hash field `op`). */
const StoredOperationSchema = z.object({
  id: z.string(),
  cluster: z.string(),
  action: z.string(),
  params: z.unknown(),
  nodes: z.array(z.string()),
  selector: z.string().optional(),
  reason: z.string().optional(),
  createdBy: z.string(),
  createdByGroups: z.array(z.string()).optional(),
  createdAt: z.string(),
});

/**
 * Operations and their per-node results in Redis, every key under the cluster's hash
 * tag (`knm:{c}:op:<id>` hash, `knm:{c}:op:<id>:results` hash node -> NodeResult,
 * `knm:{c}:opx` recent index). The gateway creates and reads; the worker updates.
 * A node's result is written as soon as it is known, so a worker that restarts
 * after a crash knows which nodes are done. Reads assemble the {@link Operation}
 * (results in `nodes` order, `pending` for nodes not yet started, `progress.done`
 * counting final results).
 */
export class OperationStore {
  private readonly retentionSeconds: number;
  private readonly maxPerCluster: number;
  private readonly historyMs: number;
  private readonly historyMaxLen: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
    options: OperationStoreOptions = {},
  ) {
    this.retentionSeconds = options.retentionSeconds ?? 7 * 86_400;
    this.maxPerCluster = options.maxPerCluster ?? 1_000;
    this.historyMs = (options.historyDays ?? 30) * 86_400_000;
    this.historyMaxLen = options.historyMaxLen ?? 1_000;
  }

  /** Writes a new operation (state `queued`). */
  async create(op: Operation): Promise<void> {
    const keys = operationKeys(this.keyspace, op.cluster);
    const stored: z.infer<typeof StoredOperationSchema> = {
      id: op.id,
      cluster: op.cluster,
      action: op.action,
      params: op.params,
      nodes: op.nodes,
      createdBy: op.createdBy,
      createdAt: op.createdAt,
    };
    if (op.selector !== undefined) stored.selector = op.selector;
    if (op.reason !== undefined) stored.reason = op.reason;
    if (op.createdByGroups !== undefined) stored.createdByGroups = op.createdByGroups;
    await this.redis
      .multi()
      .hset(keys.operation(op.id), 'op', JSON.stringify(stored), 'state', op.state)
      .expire(keys.operation(op.id), this.retentionSeconds)
      .zadd(keys.index, Date.parse(op.createdAt), op.id)
      .zremrangebyrank(keys.index, 0, -this.maxPerCluster - 1)
      .exec();
  }

  /**
   * Takes every node of `op` for it (one operation per node at a time), all or none:
   * resolves undefined when taken, or the holder and the nodes it holds when another
   * operation that has not finished holds some. A lock whose holder finished or
   * expired is free (its release was missed: a crash between the end and the release).
   */
  async lockNodes(
    op: Pick<Operation, 'id' | 'cluster' | 'nodes'>,
  ): Promise<{ holder: string; nodes: string[] } | undefined> {
    const keys = operationKeys(this.keyspace, op.cluster);
    const reply = (await this.redis.eval(
      LOCK_NODES,
      op.nodes.length,
      ...op.nodes.map((n) => keys.nodeLock(n)),
      op.id,
      keys.operation(''),
      String(this.retentionSeconds),
    )) as string[];
    if (reply.length === 0) return undefined;
    const [holder = '', ...indexes] = reply;
    return { holder, nodes: indexes.map((i) => op.nodes[Number(i)] as string) };
  }

  /** Releases the node locks `op` still holds (those another operation took since are left alone). */
  async unlockNodes(op: Pick<Operation, 'id' | 'cluster' | 'nodes'>): Promise<void> {
    if (op.nodes.length === 0) return;
    const keys = operationKeys(this.keyspace, op.cluster);
    await this.redis.eval(UNLOCK_NODES, op.nodes.length, ...op.nodes.map((n) => keys.nodeLock(n)), op.id);
  }

  /** The operation, or undefined when it does not exist (or expired). */
  async get(id: string): Promise<Operation | undefined> {
    const cluster = clusterOfOperationId(id);
    if (!cluster) return undefined;
    const keys = operationKeys(this.keyspace, cluster);
    const [hash, results] = await Promise.all([
      this.redis.hgetall(keys.operation(id)),
      this.redis.hgetall(keys.results(id)),
    ]);
    if (hash['op'] === undefined) return undefined;
    return assemble(id, hash, results);
  }

  /** Like {@link get}, throwing {@link OperationNotFoundError}. */
  async require(id: string): Promise<Operation> {
    const op = await this.get(id);
    if (!op) throw new OperationNotFoundError(id);
    return op;
  }

  /** The cluster's most recent operations, newest first (expired ones left out). */
  async list(cluster: ClusterName, limit: number): Promise<Operation[]> {
    const keys = operationKeys(this.keyspace, cluster);
    const ids = await this.redis.zrevrange(keys.index, 0, limit - 1);
    const ops = await Promise.all(ids.map((id) => this.get(id)));
    return ops.filter((op): op is Operation => op !== undefined);
  }

  /**
   * Sets the state (and `startedAt` the first time it runs, `finishedAt` / `error`
   * when given). A final state is never replaced: resolves false when the operation
   * had already finished (another runner finished it).
   */
  async setState(
    id: string,
    state: OperationState,
    extra: { finishedAt?: string; error?: string; startedAt?: string } = {},
  ): Promise<boolean> {
    const written = await this.redis.eval(
      SET_STATE,
      1,
      this.operationKey(id),
      state,
      extra.startedAt ?? '',
      extra.finishedAt ?? '',
      extra.error ?? '',
      String(this.retentionSeconds),
    );
    return written === 1;
  }

  /**
   * Records one node's result. A final result is never replaced by a non-final one:
   * resolves false (nothing written) when a `running` result would overwrite a
   * finished node, so a runner that claims a node with `running` learns that another
   * runner already did it. With `about`, the first final `succeeded` or `failed`
   * result of the node (never a later one: the script checks what it replaces) also
   * appends an `operation` entry to the node's history, in the same script: once per
   * operation and node, whichever runner finishes it, whatever the retries.
   */
  async setResult(id: string, result: NodeResult, about?: ResultAbout): Promise<boolean> {
    const cluster = this.clusterOf(id);
    const key = operationKeys(this.keyspace, cluster).results(id);
    const history = `${this.keyspace.cluster(cluster).historyPrefix}${result.node}`;
    const nowMs = Date.now();
    const written = await this.redis.eval(
      SET_RESULT,
      2,
      key,
      history,
      result.node,
      JSON.stringify(result),
      isFinalNodeStatus(result.status) ? '1' : '0',
      String(this.retentionSeconds),
      about ? historyEntryOf(id, result, about) : '',
      this.historyMaxLen,
      nowMs - this.historyMs,
      this.historyMs,
    );
    return written === 1;
  }

  /**
   * Claims the writing of the operation's audit record: true for the first caller,
   * and again for a later one when a claim is older than `staleMs` and no record was
   * noted (its writer died in between: at least once, rarely twice).
   */
  async claimAudit(id: string, nowMs: number, staleMs = 60_000): Promise<boolean> {
    const claimed = await this.redis.eval(
      CLAIM_AUDIT,
      1,
      this.operationKey(id),
      String(nowMs),
      String(staleMs),
    );
    return claimed === 1;
  }

  /**
   * Asks for the operation to be cancelled, by `by` at `at`, in one step: a queued one
   * is `cancelled` at once (no runner has it; one that picks it up later finds it final);
   * a running one is marked (`cancelRequestedAt`, `cancelledBy`) for its runner, which
   * stops at the next node or drain round; a finished one is left as it is.
   */
  async requestCancel(id: string, by: string, at: string): Promise<CancelOutcome> {
    const outcome = await this.redis.eval(
      REQUEST_CANCEL,
      1,
      this.operationKey(id),
      by,
      at,
      String(this.retentionSeconds),
    );
    if (outcome !== 'cancelled' && outcome !== 'requested' && outcome !== 'final' && outcome !== 'missing') {
      throw new Error(`unexpected cancel outcome ${String(outcome)}`);
    }
    return outcome;
  }

  /** True once a cancel was asked for (what a runner polls). */
  async cancelRequested(id: string): Promise<boolean> {
    return (await this.redis.hexists(this.operationKey(id), 'cancelRequestedAt')) === 1;
  }

  /** Notes the audit entry written for the operation. */
  async markAudited(id: string, auditId: string): Promise<void> {
    await this.redis.hset(this.operationKey(id), 'audited', auditId);
  }

  private clusterOf(id: string): ClusterName {
    const cluster = clusterOfOperationId(id);
    if (!cluster) throw new OperationNotFoundError(id);
    return cluster;
  }

  private operationKey(id: string): string {
    return operationKeys(this.keyspace, this.clusterOf(id)).operation(id);
  }
}

const FINAL_STATES =
  "local s = redis.call('HGET', KEYS[1], 'state'); local final = s == 'completed' or s == 'failed' or s == 'partial' or s == 'cancelled';";

/**
 * KEYS node locks; ARGV id, op hash key prefix (`knm:{c}:op:`), ttl. Replies [] when
 * every lock was taken, else [holder, index, ...] (1-based KEYS indexes minus one) of
 * the nodes an unfinished operation holds. The holder's hash shares the cluster's hash
 * tag, so reading it from the script stays in one slot on a Redis Cluster.
 */
const LOCK_NODES = `local busy = {}
local holder = nil
for i, key in ipairs(KEYS) do
  local h = redis.call('GET', key)
  if h and h ~= ARGV[1] then
    local s = redis.call('HGET', ARGV[2] .. h, 'state')
    if s and s ~= 'completed' and s ~= 'failed' and s ~= 'partial' and s ~= 'cancelled' then
      if holder == nil then holder = h end
      if h == holder then table.insert(busy, tostring(i - 1)) end
    end
  end
end
if holder ~= nil then
  local reply = { holder }
  for _, i in ipairs(busy) do table.insert(reply, i) end
  return reply
end
for _, key in ipairs(KEYS) do redis.call('SET', key, ARGV[1], 'EX', tonumber(ARGV[3])) end
return {}`;

/** KEYS node locks; ARGV id. */
const UNLOCK_NODES = `for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 1`;

/** KEYS[1] op hash; ARGV by, at, ttl. Replies cancelled | requested | final | missing. */
const REQUEST_CANCEL = `${FINAL_STATES}
if not s then return 'missing' end
if final then return 'final' end
redis.call('HSETNX', KEYS[1], 'cancelRequestedAt', ARGV[2])
redis.call('HSETNX', KEYS[1], 'cancelledBy', ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
if s == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finishedAt', ARGV[2])
  return 'cancelled'
end
return 'requested'`;

/** KEYS[1] op hash; ARGV state, startedAt, finishedAt, error, ttl. */
const SET_STATE = `${FINAL_STATES}
if final then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'finishedAt', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[4]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return 1`;

/**
 * KEYS[1] results hash, KEYS[2] the node's history stream; ARGV node, result JSON, '1'
 * when final, ttl, history entry JSON ('' = none), history MAXLEN, MINID (ms), TTL (ms).
 */
const SET_RESULT = `local current = redis.call('HGET', KEYS[1], ARGV[1])
local done = current and (string.find(current, '"status":"succeeded"', 1, true) or string.find(current, '"status":"failed"', 1, true) or string.find(current, '"status":"skipped"', 1, true) or string.find(current, '"status":"cancelled"', 1, true))
if ARGV[3] == '0' and done then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
if ARGV[3] == '1' and ARGV[5] ~= '' and not done then
  redis.call('XADD', KEYS[2], 'MINID', '~', ARGV[7], '*', 'h', ARGV[5])
  redis.call('XTRIM', KEYS[2], 'MAXLEN', '~', ARGV[6])
  redis.call('PEXPIRE', KEYS[2], ARGV[8])
end
return 1`;

/** The `operation` history entry of a final result, or '' when the step touched nothing (skipped, cancelled). */
function historyEntryOf(id: string, result: NodeResult, about: ResultAbout): string {
  if (result.status !== 'succeeded' && result.status !== 'failed') return '';
  const operation: Extract<HistoryRecord, { kind: 'operation' }>['operation'] = {
    id,
    action: about.action,
    status: result.status,
    by: about.by,
  };
  if (result.message) operation.message = result.message;
  if (result.error) operation.error = result.error;
  const entry: HistoryRecord = {
    kind: 'operation',
    at: result.updatedAt ?? new Date().toISOString(),
    timeSource: 'observed',
    operation,
  };
  return JSON.stringify(entry);
}

/** KEYS[1] op hash; ARGV now ms, stale ms. Field audited: 'claim:<ms>' while writing, then the stream id. */
const CLAIM_AUDIT = `local a = redis.call('HGET', KEYS[1], 'audited')
if a then
  if string.sub(a, 1, 6) ~= 'claim:' then return 0 end
  if tonumber(ARGV[1]) - tonumber(string.sub(a, 7)) < tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], 'audited', 'claim:' .. ARGV[1])
return 1`;

function assemble(id: string, hash: Record<string, string>, rawResults: Record<string, string>): Operation {
  const stored = decodeJson(StoredOperationSchema, hash['op'] ?? '', `operation ${id}`);
  const results = stored.nodes.map((node): NodeResult => {
    const raw = rawResults[node];
    return raw === undefined
      ? { node, status: 'pending' }
      : decodeJson(NodeResultSchema, raw, `result of ${node} in ${id}`);
  });
  const candidate: Record<string, unknown> = {
    ...stored,
    state: hash['state'],
    progress: { done: results.filter((r) => isFinalNodeStatus(r.status)).length, total: stored.nodes.length },
    results,
  };
  for (const field of ['startedAt', 'finishedAt', 'error', 'cancelRequestedAt', 'cancelledBy'] as const) {
    if (hash[field] !== undefined) candidate[field] = hash[field];
  }
  return decodeJson(OperationSchema, JSON.stringify(candidate), `operation ${id}`);
}
