import { createHash, randomBytes } from 'node:crypto';
import {
  ClusterRegistryEntrySchema,
  DEFAULT_FLAP_RULE,
  IncidentTrackerSchema,
  NodeSnapshotSchema,
  deriveHistory,
  trackIncident,
  incidentTransitions,
  NODE_PODS_CACHE_MS,
  USAGE_POLL_FIELD,
  UsageSnapshotSchema,
  decode,
  decodeJson,
  type ClusterKeys,
  type ClusterName,
  type ClusterRegistryEntry,
  type ClusterStatus,
  type FlapRule,
  type IncidentTracker,
  type Keyspace,
  type NodeAllocation,
  type NodePodsReady,
  type NodePodsResponse,
  type NodeSnapshot,
  type ResyncReason,
  type UsageSnapshot,
} from '@knm/contracts';
import type { z } from 'zod';
import { allocationJson } from './allocation-json.js';
import {
  allocationParts,
  clusterStatusParts,
  nodeDeleteBody,
  nodeEnvelopeParts,
  podCountKey,
  podCountsParts,
  resyncBody,
  usageParts,
} from './envelope-json.js';
import {
  FencedError,
  HistoryStaleError,
  PodCountUnderflowError,
  StagingLostError,
  UnexpectedReplyError,
} from './errors.js';
import { scriptStatus, type LuaScript } from './lua-script.js';
import type { NodeChange } from './node-change.js';
import { NodeStoreReader, type StoredClusterState } from './node-store-reader.js';
import type { RedisClient } from './redis-client.js';
import { ReplyCode } from './reply-code.js';
import { StagedRebuild } from './staged-rebuild.js';
import { WRITE_SCRIPTS, type PubSubMode, type WriteScripts } from './write-scripts.js';

/** Options of {@link NodeStoreWriter}. */
export interface NodeStoreWriterOptions {
  /** Approximate cap of the events stream (`XADD MAXLEN ~`). Default 10,000. */
  eventsMaxLen?: number;
  /** Source of envelope timestamps and meta times. Default `() => new Date()`. */
  clock?: () => Date;
  /** Node changes per script call in `applyNodeChanges` (each call is atomic). Default 200. */
  nodeChangesPerScript?: number;
  /** Hash fields per pipelined HSET while staging a rebuild. Default 250. */
  rebuildChunkSize?: number;
  /** TTL of staging keys, so a crashed rebuild leaves nothing behind. Default 300,000 ms. */
  stagingTtlMs?: number;
  /** PUBLISH (`classic`) or SPUBLISH (`sharded`) on the changes channel; subscribers must match. Default `classic`. */
  pubsub?: PubSubMode;
  /** Days a node's history entries and closed incidents are kept (`KNM_HISTORY_DAYS`). Default 30. */
  historyDays?: number;
  /** Approximate cap of entries per node history stream (`XTRIM MAXLEN ~`). Default 1,000. */
  historyMaxLen?: number;
  /** When an incident is marked flapping. Default {@link DEFAULT_FLAP_RULE}. */
  flapRule?: FlapRule;
}

/** How many times a batch is derived again when a node's stored state moved under it. */
const STALE_RETRIES = 3;

/** A node's stored state as the apply-nodes script compares it: snapshot JSON and tracker JSON ('' = absent). */
interface StoredNodeState {
  node: string;
  tracker: string;
}

/**
 * All writes of the leading watcher of one cluster. Every method is ONE atomic step
 * (a Lua script) that checks the fencing epoch, updates the hashes, bumps `meta.seq`
 * (one seq per envelope), XADDs each envelope to the capped events stream (entry ID
 * `<seq>-0`, field `e`) and PUBLISHes it on the changes channel. So a reader never
 * sees an envelope whose state is not in the hashes yet, and seq has no gaps.
 * `heartbeat`, `markSynced` and `storeNodePods` are fenced steps too, but emit no
 * envelope and take no seq. Node changes also write, in their step, each node's
 * history entries and incidents (see {@link NodeStoreWriter.applyNodeChanges}).
 *
 * Fencing: construct it with the epoch `LeaderLease.acquire` returned. Once another
 * watcher acquires the lease (the epoch moves on), every method throws
 * {@link FencedError} and changes nothing. Exceptions: `register` (the registry
 * lives outside the cluster's slot; it is checked, not atomically fenced), the
 * staging half of `rebuild` and `stageRebuild` (invisible to readers, expiring, deleted when the swap is fenced)
 * and `readState` (a read, so nothing to fence).
 *
 * Calls are not serialised here: the watcher must await each call before the next
 * if it needs their envelopes in call order (it does).
 */
export class NodeStoreWriter {
  private readonly keys: ClusterKeys;
  private readonly eventsMaxLen: number;
  private readonly clock: () => Date;
  private readonly nodeChangesPerScript: number;
  private readonly rebuildChunkSize: number;
  private readonly stagingTtlMs: number;
  private readonly scripts: WriteScripts;
  private readonly reader: NodeStoreReader;
  private readonly historyMs: number;
  private readonly historyMaxLen: number;
  private readonly flapRule: FlapRule;

  constructor(
    private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
    readonly cluster: ClusterName,
    readonly epoch: number,
    readonly identity: string,
    options: NodeStoreWriterOptions = {},
  ) {
    if (!Number.isSafeInteger(epoch) || epoch < 1)
      throw new RangeError(`epoch must be a positive integer, got ${epoch}`);
    if (!identity) throw new RangeError('identity must not be empty');
    this.keys = keyspace.cluster(cluster);
    this.eventsMaxLen = options.eventsMaxLen ?? 10_000;
    this.clock = options.clock ?? (() => new Date());
    this.nodeChangesPerScript = options.nodeChangesPerScript ?? 200;
    this.rebuildChunkSize = options.rebuildChunkSize ?? 250;
    this.stagingTtlMs = options.stagingTtlMs ?? 300_000;
    this.scripts = WRITE_SCRIPTS[options.pubsub ?? 'classic'];
    this.reader = new NodeStoreReader(redis, keyspace);
    const days = options.historyDays ?? 30;
    if (!(days > 0)) throw new RangeError(`historyDays must be positive, got ${days}`);
    this.historyMs = Math.round(days * 86_400_000);
    this.historyMaxLen = options.historyMaxLen ?? 1_000;
    this.flapRule = options.flapRule ?? DEFAULT_FLAP_RULE;
  }

  /**
   * What Redis holds of the cluster (nodes, pod counts, allocation, usage, seq,
   * epoch, syncedAt), read
   * atomically: a new leader diffs its caches against it and writes only the
   * differences. A read, so not fenced; values that do not decode are left out (the
   * diff then writes them anew).
   */
  readState(): Promise<StoredClusterState> {
    return this.reader.getStoredState(this.cluster);
  }

  /**
   * Registers the cluster in `knm:clusters`, keeping `registeredAt` of an existing
   * entry and replacing `server`. Throws {@link FencedError} when the epoch has moved
   * on (checked just before; the registry is outside the cluster's slot, so this is
   * the one write that is not atomically fenced: it is idempotent metadata).
   */
  async register(entry: { server?: string }): Promise<void> {
    await this.assertEpoch();
    const existing = await this.redis.hget(this.keyspace.clusters, this.cluster);
    let registeredAt = this.now();
    if (existing !== null) {
      try {
        registeredAt = decodeJson(ClusterRegistryEntrySchema, existing, 'knm:clusters entry').registeredAt;
      } catch {
        // A corrupt entry is replaced by a fresh one.
      }
    }
    const value: ClusterRegistryEntry = { name: this.cluster, registeredAt };
    if (entry.server !== undefined) value.server = entry.server;
    await this.redis.hset(this.keyspace.clusters, this.cluster, JSON.stringify(value));
  }

  /**
   * Stages `nodes` for a {@link rebuild} to come, ahead of it (a watcher stages its
   * nodes while its pods are still being listed): the same hash the rebuild would
   * stage, under temporary keys of the cluster's slot (pipelined, in chunks, with a
   * TTL, invisible to readers). Pass the result as the rebuild's `staged`: it then
   * writes only the nodes that changed since (by identity) and deletes those gone.
   * Checks the epoch first (a writer already fenced stages nothing); the staging
   * itself is not fenced, as the rebuild's own is not: only the swap makes it visible,
   * and the swap is fenced. Unused, the keys expire after `stagingTtlMs`.
   */
  async stageRebuild(nodes: readonly NodeSnapshot[]): Promise<StagedRebuild> {
    const byName = new Map([...nodesByName(nodes)].map((node) => [node.name, node]));
    const fields = nodeFields(nodes);
    await this.assertEpoch();
    const staged = new StagedRebuild(stagingSuffix(), this.epoch, byName);
    const key = `${this.keys.nodes}${staged.suffix}`;
    try {
      await this.stage(key, fields);
    } catch (err) {
      await this.redis.del(key).catch(() => undefined);
      throw err;
    }
    return staged;
  }

  /**
   * Replaces the cluster's nodes, pod counts and allocation in one swap: the new
   * hashes are staged under temporary keys of the same slot (pipelined, in chunks,
   * invisible to readers), then one fenced script renames them over the live keys,
   * sets meta (status `ready`, no error, syncedAt/heartbeatAt = now, nodeCount,
   * podCount, leader, epoch) and emits one `resync` envelope. Readers see all-old or
   * all-new. Returns the resync envelope's seq. Pod counts of 0 and empty
   * allocations are not stored; `allocation` defaults to none. The usage snapshot
   * is left as it is (the next poll replaces it). With `staged` (from
   * {@link stageRebuild} of this writer, once), only the nodes that differ from the
   * staged ones are written before the swap (all of them again if the staged hash
   * expired meanwhile).
   */
  async rebuild(input: {
    nodes: readonly NodeSnapshot[];
    podCounts: Readonly<Record<string, number>>;
    allocation?: Readonly<Record<string, NodeAllocation>>;
    reason: ResyncReason;
    /** A {@link StagedRebuild} of this writer (typed by its size: the watcher's engine holds it as such). */
    staged?: { readonly size: number };
  }): Promise<number> {
    const staged = input.staged;
    if (staged && (!(staged instanceof StagedRebuild) || staged.used || staged.epoch !== this.epoch))
      throw new RangeError('rebuild: the staged nodes were used already, or staged by another writer');
    const names = new Set([...nodesByName(input.nodes)].map((node) => node.name));
    const changed = staged ? input.nodes.filter((node) => staged.nodes.get(node.name) !== node) : input.nodes;
    let changedFields = nodeFields(changed);
    const gone = staged ? [...staged.nodes.keys()].filter((name) => !names.has(name)) : [];
    const podFields: string[] = [];
    let podTotal = 0;
    for (const [name, count] of Object.entries(input.podCounts)) {
      if (!Number.isSafeInteger(count) || count < 0) {
        throw new RangeError(`rebuild: pod count of "${name}" must be a non-negative integer, got ${count}`);
      }
      if (count === 0) continue;
      podFields.push(name, String(count));
      podTotal += count;
    }
    const allocationFields: string[] = [];
    for (const [name, allocation] of Object.entries(input.allocation ?? {})) {
      const json = allocationJson(name, allocation);
      if (json !== undefined) allocationFields.push(name, json);
    }

    if (staged) staged.used = true;
    const suffix = staged?.suffix ?? stagingSuffix();
    const stagedNodes = `${this.keys.nodes}${suffix}`;
    const stagedPods = `${this.keys.pods}${suffix}`;
    const stagedAllocation = `${this.keys.allocation}${suffix}`;
    try {
      // Inside: a writer fenced since it staged its nodes deletes them.
      await this.assertEpoch();
      if (staged && staged.size > 0) {
        // Expired meanwhile (a list slower than the TTL): stage every node again.
        if ((await this.redis.pexpire(stagedNodes, this.stagingTtlMs)) === 0)
          changedFields = nodeFields(input.nodes);
        else if (gone.length > 0) await this.redis.hdel(stagedNodes, ...gone);
      }
      await this.stage(stagedNodes, changedFields);
      await this.stage(stagedPods, podFields);
      await this.stage(stagedAllocation, allocationFields);
      const now = this.now();
      const reply = await this.scripts.rebuildSwap.run(
        this.redis,
        [
          this.keys.epoch,
          this.keys.meta,
          this.keys.events,
          this.keys.changes,
          this.keys.nodes,
          this.keys.pods,
          this.keys.allocation,
          stagedNodes,
          stagedPods,
          stagedAllocation,
        ],
        [
          this.epoch,
          this.eventsMaxLen,
          now,
          input.nodes.length,
          podFields.length / 2,
          podTotal,
          this.identity,
          resyncBody(this.cluster, input.reason, this.epoch, now),
          allocationFields.length / 2,
        ],
      );
      return this.seqOf(this.scripts.rebuildSwap, reply);
    } catch (err) {
      await this.redis.del(stagedNodes, stagedPods, stagedAllocation).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Applies node changes in order, one envelope each (`node_add`, `node_update` with
   * its `changes`, `node_delete` with the uid), and in the same atomic step each
   * node's history entries and incidents, derived from what Redis held of the node
   * (not from the caller's cache) and the new snapshot. Batches of
   * `nodeChangesPerScript` are each one atomic script; if a later batch is fenced, the
   * earlier ones stay applied (each envelope always matches its state). A batch
   * whose nodes' stored state moved between the read and the script is derived again
   * (the script refuses it whole). Returns the last seq (the current seq for an empty
   * list).
   */
  async applyNodeChanges(changes: readonly NodeChange[]): Promise<number> {
    if (changes.length === 0) return this.currentSeqFenced();
    // Everything is validated and encoded before the first script runs, so a bad
    // change never leaves earlier batches applied.
    const now = this.now();
    const groups = changes.map((change) => this.encodeNodeChange(change, now));
    let seq = 0;
    for (let start = 0; start < groups.length; start += this.nodeChangesPerScript) {
      const batch = groups.slice(start, start + this.nodeChangesPerScript);
      const batchChanges = changes.slice(start, start + this.nodeChangesPerScript);
      for (let attempt = 1; ; attempt++) {
        const { keys, args } = await this.withHistory(batchChanges, batch, now);
        const reply = await this.scripts.applyNodes.run(
          this.redis,
          [...this.clusterKeys(...keys.fixed), ...keys.history],
          args,
        );
        const status = scriptStatus(reply);
        if (status?.code === ReplyCode.stale && attempt < STALE_RETRIES) continue;
        if (status?.code === ReplyCode.stale) throw new HistoryStaleError(this.cluster, String(status.value));
        seq = this.seqOf(this.scripts.applyNodes, reply);
        break;
      }
    }
    return seq;
  }

  /**
   * The apply-nodes keys and arguments of one batch: reads the batch's nodes and
   * incident trackers as Redis holds them, then derives each change's history and
   * incidents from that state (following the batch's own earlier changes of the same
   * node), with the state's hash the script checks.
   */
  private async withHistory(
    changes: readonly NodeChange[],
    encoded: readonly (readonly [string, string, string, string, string])[],
    now: string,
  ): Promise<{ keys: { fixed: string[]; history: string[] }; args: (string | number)[] }> {
    const names = [...new Set(encoded.map((g) => g[1]))];
    const pipeline = this.redis.pipeline();
    pipeline.hmget(this.keys.nodes, ...names);
    pipeline.hmget(this.keys.incidentNodes, ...names);
    const results = (await pipeline.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
    const [storedNodes, storedTrackers] = results.map(([, value]) => value as (string | null)[]);
    const state = new Map<string, StoredNodeState>(
      names.map((name, i) => [name, { node: storedNodes?.[i] ?? '', tracker: storedTrackers?.[i] ?? '' }]),
    );
    const nowMs = Date.parse(now);
    const args: (string | number)[] = [
      this.epoch,
      this.eventsMaxLen,
      now,
      this.historyMaxLen,
      nowMs - this.historyMs,
      this.historyMs,
      nowMs - this.historyMs,
    ];
    const history: string[] = [];
    encoded.forEach((group, i) => {
      const change = changes[i] as NodeChange;
      const [, name, json] = group;
      const stored = state.get(name) as StoredNodeState;
      const prev = decodeStored(NodeSnapshotSchema, stored.node);
      const next = change.type === 'node_delete' ? undefined : change.node;
      const records = deriveHistory(prev, next, now);
      const tracker0 = decodeStored(IncidentTrackerSchema, stored.tracker) as IncidentTracker | undefined;
      const step = trackIncident({
        cluster: this.cluster,
        name,
        tracker: tracker0,
        prev,
        next,
        observedAt: now,
        rule: this.flapRule,
      });
      const tracker = step.tracker ? JSON.stringify(step.tracker) : '';
      args.push(...group, sha1(`${stored.node}\n${stored.tracker}`), tracker, records.length);
      for (const record of records) args.push(JSON.stringify(record));
      args.push(step.incidents.length);
      for (const incident of step.incidents) {
        args.push(incident.id, JSON.stringify(incident), incident.end ? Date.parse(incident.end) : '+inf');
      }
      const transitions = incidentTransitions(tracker0?.open !== undefined, step.incidents, next ?? prev);
      args.push(transitions.length);
      for (const transition of transitions) args.push(JSON.stringify(transition));
      state.set(name, { node: json, tracker });
      history.push(`${this.keys.historyPrefix}${name}`);
    });
    return {
      keys: {
        fixed: [
          this.keys.nodes,
          this.keys.incidentNodes,
          this.keys.incidents,
          this.keys.incidentData,
          this.keys.incidentEvents,
        ],
        history,
      },
      args,
    };
  }

  /** The five APPLY_NODES arguments of one change: op, name, snapshot JSON, body head, body tail. */
  private encodeNodeChange(change: NodeChange, now: string): [string, string, string, string, string] {
    if (change.type === 'node_delete') {
      if (!change.name) throw new RangeError('node_delete: node name must not be empty');
      return ['d', change.name, '', nodeDeleteBody(this.cluster, change.name, change.uid, now), ''];
    }
    const { node } = change;
    if (!node.name) throw new RangeError(`${change.type}: node name must not be empty`);
    if (change.type === 'node_update' && change.changes.length === 0) {
      throw new RangeError(`node_update of "${node.name}" lists no changed aspects`);
    }
    const parts = nodeEnvelopeParts({
      type: change.type,
      cluster: this.cluster,
      node: node.name,
      changes: change.type === 'node_update' ? change.changes : undefined,
      timestamp: now,
    });
    return [change.type === 'node_add' ? 'a' : 'u', node.name, JSON.stringify(node), parts.head, parts.tail];
  }

  /**
   * Writes what the pods changed, in ONE atomic step: per-node pod-count deltas
   * (HINCRBY; a count that reaches 0 is HDEL'd) and the new absolute allocation of the nodes in `allocation` (HSET
   * in canonical JSON, HDEL when empty; a node whose stored allocation is the same is
   * left alone). Emits one `pod_counts` envelope with the new absolute counts of the
   * nodes whose delta is non-zero, then one `allocation` envelope with the nodes whose
   * allocation changed, each with its own seq. meta.podCount stays the sum of the
   * pods hash. Returns the last envelope's seq, or the current seq when nothing
   * changed (nothing is written then, but the fence is still checked).
   *
   * A count that would go below 0 means Redis and the caller's pod index disagree: it
   * is stored as 0 (a negative count means nothing to a client), the step completes
   * as usual, and then this throws {@link PodCountUnderflowError} naming those
   * nodes, so the caller rewrites the counts from its index instead of building on
   * the wrong ones.
   */
  async applyPodDeltas(
    deltas: Readonly<Record<string, number>>,
    allocation: Readonly<Record<string, NodeAllocation>> = {},
  ): Promise<number> {
    const now = this.now();
    const counts = podCountsParts(this.cluster, now);
    const sums = allocationParts(this.cluster, now);
    const countArgs: (string | number)[] = [];
    for (const [name, delta] of Object.entries(deltas)) {
      if (!Number.isSafeInteger(delta))
        throw new RangeError(`pod delta of "${name}" must be an integer, got ${delta}`);
      if (delta !== 0) countArgs.push(name, podCountKey(name), delta);
    }
    const args: (string | number)[] = [
      this.epoch,
      this.eventsMaxLen,
      now,
      counts.head,
      counts.tail,
      sums.head,
      sums.tail,
      countArgs.length / 3,
      ...countArgs,
    ];
    for (const [name, value] of Object.entries(allocation)) {
      args.push(name, podCountKey(name), allocationJson(name, value) ?? '');
    }
    const reply = await this.scripts.applyPodDeltas.run(
      this.redis,
      this.clusterKeys(this.keys.pods, this.keys.allocation),
      args,
    );
    const seq = this.seqOf(this.scripts.applyPodDeltas, reply);
    const clamped = (reply as unknown[]).slice(2).map(String);
    if (clamped.length > 0) throw new PodCountUnderflowError(this.cluster, seq, clamped);
    return seq;
  }

  /**
   * Replaces the cluster's usage snapshot (one poll of the metrics API) and emits one
   * `usage` envelope carrying it, in one fenced step. Returns the envelope's seq.
   * A snapshot that does not match its schema is refused (ContractError) unwritten.
   */
  async setUsage(snapshot: UsageSnapshot): Promise<number> {
    decode(UsageSnapshotSchema, snapshot, 'usage snapshot');
    const now = this.now();
    const parts = usageParts(this.cluster, now);
    const { nodes, ...poll } = snapshot.available ? snapshot : { ...snapshot, nodes: {} };
    const byNode: string[] = [USAGE_POLL_FIELD, JSON.stringify(poll)];
    for (const [name, usage] of Object.entries(nodes)) byNode.push(name, JSON.stringify(usage));
    const reply = await this.scripts.setUsage.run(
      this.redis,
      this.clusterKeys(this.keys.usage, this.keys.usageByNode),
      [this.epoch, this.eventsMaxLen, now, JSON.stringify(snapshot), parts.head, parts.tail, ...byNode],
    );
    return this.seqOf(this.scripts.setUsage, reply);
  }

  /**
   * Stores the answer to a gateway's request for a node's pods under
   * `nodePodsPrefix + node` for `ttlMs` (default NODE_PODS_CACHE_MS) and publishes
   * NodePodsReady on the pods-replies channel, in one fenced step (a standby's late
   * answer is refused like any write). No envelope.
   */
  async storeNodePods(response: NodePodsResponse, ttlMs: number = NODE_PODS_CACHE_MS): Promise<void> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1)
      throw new RangeError(`ttlMs must be a positive integer, got ${ttlMs}`);
    const ready: NodePodsReady = { node: response.node };
    const reply = await this.scripts.storeNodePods.run(
      this.redis,
      this.clusterKeys(this.keys.nodePodsPrefix + response.node, this.keys.podsReplies),
      [this.epoch, this.eventsMaxLen, this.now(), JSON.stringify(response), ttlMs, JSON.stringify(ready)],
    );
    this.seqOf(this.scripts.storeNodePods, reply);
  }

  /**
   * Sets meta.status (and meta.error; omitted = cleared) and emits a `cluster_status`
   * envelope (with nodeCount, podCount, syncedAt and leader) only when the status or
   * the error changed.
   */
  async setStatus(status: Exclude<ClusterStatus, 'stale'>, error?: string): Promise<void> {
    const now = this.now();
    const parts = clusterStatusParts({
      cluster: this.cluster,
      status,
      error,
      leader: this.identity,
      timestamp: now,
    });
    const reply = await this.scripts.setStatus.run(this.redis, this.clusterKeys(), [
      this.epoch,
      this.eventsMaxLen,
      now,
      status,
      error ?? '',
      this.identity,
      parts.head,
      parts.tail,
    ]);
    this.seqOf(this.scripts.setStatus, reply);
  }

  /**
   * Records that a (re)list completed at `listedAt`: sets meta.syncedAt, unless it
   * already holds a later time. No envelope (the list's differences were written as
   * ordinary ones). Fenced like every write.
   */
  async markSynced(listedAt: Date): Promise<void> {
    const reply = await this.scripts.markSynced.run(this.redis, this.clusterKeys(), [
      this.epoch,
      this.eventsMaxLen,
      this.now(),
      listedAt.toISOString(),
    ]);
    this.seqOf(this.scripts.markSynced, reply);
  }

  /** Refreshes meta.heartbeatAt (and leader, epoch); readers derive `stale` from it. Fenced like every write. */
  async heartbeat(): Promise<void> {
    const reply = await this.scripts.heartbeat.run(this.redis, this.clusterKeys(), [
      this.epoch,
      this.eventsMaxLen,
      this.now(),
      this.identity,
    ]);
    this.seqOf(this.scripts.heartbeat, reply);
  }

  private clusterKeys(...extra: string[]): string[] {
    return [this.keys.epoch, this.keys.meta, this.keys.events, this.keys.changes, ...extra];
  }

  private async stage(key: string, fields: readonly string[]): Promise<void> {
    if (fields.length === 0) return;
    const step = this.rebuildChunkSize * 2;
    const pipeline = this.redis.pipeline();
    for (let i = 0; i < fields.length; i += step) {
      pipeline.hset(key, ...fields.slice(i, i + step));
      pipeline.pexpire(key, this.stagingTtlMs);
    }
    const results = await pipeline.exec();
    for (const [err] of results ?? []) if (err) throw err;
  }

  /** The fenced current seq (used when a call writes nothing). */
  private async currentSeqFenced(): Promise<number> {
    const reply = await this.scripts.currentSeq.run(this.redis, this.clusterKeys(), [
      this.epoch,
      this.eventsMaxLen,
      this.now(),
    ]);
    return this.seqOf(this.scripts.currentSeq, reply);
  }

  private async assertEpoch(): Promise<void> {
    const current = await this.redis.get(this.keys.epoch);
    if (current !== String(this.epoch)) {
      throw new FencedError(this.cluster, this.epoch, current === null ? undefined : Number(current));
    }
  }

  private seqOf(script: LuaScript, reply: unknown): number {
    const status = scriptStatus(reply);
    if (status?.code === ReplyCode.ok && typeof status.value === 'number') return status.value;
    if (status?.code === ReplyCode.fenced) {
      const current = status.value === '' ? undefined : Number(status.value);
      throw new FencedError(this.cluster, this.epoch, current);
    }
    if (status?.code === ReplyCode.stagingLost)
      throw new StagingLostError(this.cluster, String(status.value));
    throw new UnexpectedReplyError(script.name, reply);
  }

  private now(): string {
    return this.clock().toISOString();
  }
}

/** A fresh suffix for staging keys (same slot as the live key it is appended to). */
function stagingSuffix(): string {
  return `:staging:${randomBytes(6).toString('hex')}`;
}

/** `nodes`, checked to name each node once (RangeError naming the first repeated). */
function* nodesByName(nodes: readonly NodeSnapshot[]): Generator<NodeSnapshot> {
  const seen = new Set<string>();
  for (const node of nodes) {
    if (seen.has(node.name)) throw new RangeError(`rebuild: node "${node.name}" appears twice`);
    seen.add(node.name);
    yield node;
  }
}

/** The HSET fields of `nodes`: name, snapshot JSON. */
function nodeFields(nodes: readonly NodeSnapshot[]): string[] {
  const fields: string[] = [];
  for (const node of nodes) fields.push(node.name, JSON.stringify(node));
  return fields;
}

function sha1(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

/**
 * A stored JSON value decoded, or undefined when absent ('') or not decodable: a
 * corrupt snapshot or tracker counts as none, so the change is recorded as the node's
 * first (a new `node_added`, a fresh tracker) rather than failing the write.
 */
function decodeStored<S extends z.ZodType>(schema: S, json: string): z.output<S> | undefined {
  if (json === '') return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
