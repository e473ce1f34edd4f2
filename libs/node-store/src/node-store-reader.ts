import {
  ClusterMetaSchema,
  ClusterRegistryEntrySchema,
  EMPTY_ALLOCATION,
  EnvelopeSchema,
  NodeAllocationSchema,
  NodeSnapshotSchema,
  USAGE_POLL_FIELD,
  UsageSnapshotSchema,
  decode,
  decodeJson,
  type ClusterMeta,
  type ClusterName,
  type ClusterStatus,
  type Envelope,
  type Keyspace,
  type NodeAllocation,
  type NodeSnapshot,
  type UsageSnapshot,
} from '@knm/contracts';
import type { RedisClient } from './redis-client.js';

/** What the gateways show of one cluster: its registry entry, its meta, and the derived status. */
export interface ClusterSummary extends ClusterMeta {
  name: ClusterName;
  registeredAt: string;
  server?: string;
  /** meta.status, or `stale` when the leader's heartbeat is older than `staleAfterMs`. */
  status: ClusterStatus;
}

/**
 * A cluster's nodes, pod counts, allocation and usage as of `seq` (the seq of the
 * last envelope applied to them).
 */
export interface ClusterSnapshot {
  seq: number;
  /** The fencing epoch recorded in meta (of the leader that acquired last). */
  epoch: number;
  nodes: NodeSnapshot[];
  podCounts: Record<string, number>;
  /** Node name -> what its counted pods request and limit (nodes with none left out). */
  allocation: Record<string, NodeAllocation>;
  /** The last poll of the metrics API; undefined before the first (or when it does not decode). */
  usage: UsageSnapshot | undefined;
}

/**
 * Where a registered cluster's state is: what a cached answer is checked against
 * before anything else is read ({@link NodeStoreReader.getPosition}).
 */
export interface ClusterPosition {
  /** meta.seq: the seq of the last envelope applied (0 before the first). */
  seq: number;
  /** meta.epoch: the fencing epoch of the leader that acquired last. */
  epoch: number;
  /**
   * The registry entry's `registeredAt`: the cluster's life. Redis losing its data (or
   * the cluster being removed and added again) starts a new one, in which epoch and
   * seq count from the start again, so (epoch, seq) alone may name other data.
   */
  registeredAt: string;
}

/** One node as {@link NodeStoreReader.getNode} reads it. */
export interface StoredNode {
  /** The seq the rest reflects. */
  seq: number;
  node: NodeSnapshot;
  podCount: number;
  /** What its counted pods request and limit ({@link EMPTY_ALLOCATION} when none). */
  allocation: NodeAllocation;
  /**
   * The cluster's last usage poll, its `nodes` narrowed to this node (empty when the
   * poll did not measure it); undefined before the first poll.
   */
  usage: UsageSnapshot | undefined;
}

/**
 * A {@link ClusterSnapshot} with meta.syncedAt (the time of the last completed
 * (re)list), read in the same MULTI: what a new leader diffs its caches against.
 */
export interface StoredClusterState extends ClusterSnapshot {
  /**
   * Absent when Redis holds no state of the cluster's current life: never rebuilt,
   * or deleted by the lease when it found that Redis had lost its data.
   */
  syncedAt?: string;
}

/** Result of {@link NodeStoreReader.readEventsAfter}. */
export type EventsAfterResult =
  | {
      status: 'ok';
      /** Envelopes with seq > afterSeq, oldest first. */
      envelopes: Envelope[];
      /** Seq the caller is at after applying these: the last entry read, or afterSeq when none. */
      lastSeq: number;
      /** meta.seq when read: more remain when `lastSeq < currentSeq`. */
      currentSeq: number;
    }
  | {
      /** Some envelope after afterSeq cannot be had (trimmed, lost, or corrupt): reload a snapshot (resync). */
      status: 'gap';
      /** meta.seq when read. */
      lastSeq: number;
    };

/** Options of {@link NodeStoreReader}. */
export interface NodeStoreReaderOptions {
  /** A cluster whose meta.heartbeatAt is older than this is reported `stale`. Default 15,000 ms. */
  staleAfterMs?: number;
  /** Clock for staleness. Default `() => new Date()`. */
  clock?: () => Date;
  /**
   * Called with every stored value that does not decode (a node, a node's allocation,
   * the usage snapshot, a registry entry, a stream entry); the value is skipped, never
   * thrown. Default: ignored.
   */
  onInvalid?: (subject: string, raw: string, err: Error) => void;
}

/**
 * Reads for the gateways. Snapshot reads (`getSnapshot`, `getNode`, `getPodCounts`,
 * `getAllocation`, `getUsage`)
 * are one MULTI with meta.seq, so the returned seq always matches the returned
 * state: apply envelopes with a greater seq on top and the view is exact. Values are
 * decoded with the contracts' schemas; corrupt ones are reported via `onInvalid` and
 * skipped.
 *
 * Known limitation: `listClusters` reads the registry and then each meta, with one
 * command per key (works on a standalone Redis and, key by key, on a Cluster).
 */
export class NodeStoreReader {
  private readonly staleAfterMs: number;
  private readonly clock: () => Date;
  private readonly onInvalid: (subject: string, raw: string, err: Error) => void;

  constructor(
    private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
    options: NodeStoreReaderOptions = {},
  ) {
    this.staleAfterMs = options.staleAfterMs ?? 15_000;
    this.clock = options.clock ?? (() => new Date());
    this.onInvalid = options.onInvalid ?? (() => undefined);
  }

  /** Every registered cluster with its meta, sorted by name. */
  async listClusters(): Promise<ClusterSummary[]> {
    const registry = await this.redis.hgetall(this.keyspace.clusters);
    const names = Object.keys(registry).sort();
    const summaries = await Promise.all(names.map((name) => this.summarise(name, registry[name] ?? '')));
    return summaries.filter((s): s is ClusterSummary => s !== undefined);
  }

  /** One registered cluster, or `undefined` when it is not in `knm:clusters`. */
  async getCluster(cluster: ClusterName): Promise<ClusterSummary | undefined> {
    const raw = await this.redis.hget(this.keyspace.clusters, cluster);
    return raw === null ? undefined : this.summarise(cluster, raw);
  }

  /**
   * The cluster's seq, epoch and life, or `undefined` when it is not registered: the
   * registry entry and meta's two fields, asked at once (one round trip, on a Redis
   * Cluster too: each command has one key), without decoding the rest of meta. The
   * cheapest read that says whether an answer cached at some (epoch, seq) is current.
   */
  async getPosition(cluster: ClusterName): Promise<ClusterPosition | undefined> {
    const [rawEntry, meta] = await Promise.all([
      this.redis.hget(this.keyspace.clusters, cluster),
      this.redis.hmget(this.keyspace.cluster(cluster).meta, 'seq', 'epoch'),
    ]);
    if (rawEntry === null) return undefined;
    let entry;
    try {
      entry = decodeJson(ClusterRegistryEntrySchema, rawEntry, `${this.keyspace.clusters} entry ${cluster}`);
    } catch (err) {
      this.onInvalid(`${this.keyspace.clusters} entry ${cluster}`, rawEntry, err as Error);
      return undefined;
    }
    return { seq: toInt(meta[0]), epoch: toInt(meta[1]), registeredAt: entry.registeredAt };
  }

  /** All nodes, pod counts, allocation and usage of a cluster with the seq they reflect, read atomically. */
  async getSnapshot(cluster: ClusterName): Promise<ClusterSnapshot> {
    const { seq, epoch, nodes, podCounts, allocation, usage } = await this.getStoredState(cluster);
    return { seq, epoch, nodes, podCounts, allocation, usage };
  }

  /**
   * {@link NodeStoreReader.getSnapshot} plus meta.syncedAt, in one MULTI: the watcher
   * reads it to write only what differs from its caches (and to learn whether Redis
   * holds any state of this life at all).
   */
  async getStoredState(cluster: ClusterName): Promise<StoredClusterState> {
    const keys = this.keyspace.cluster(cluster);
    const [meta, nodes, pods, allocation, usage] = await this.atomically<
      [
        (string | null)[],
        Record<string, string>,
        Record<string, string>,
        Record<string, string>,
        string | null,
      ]
    >(
      this.redis
        .multi()
        .hmget(keys.meta, 'seq', 'epoch', 'syncedAt')
        .hgetall(keys.nodes)
        .hgetall(keys.pods)
        .hgetall(keys.allocation)
        .get(keys.usage),
    );
    const decoded: NodeSnapshot[] = [];
    for (const [name, raw] of Object.entries(nodes)) {
      const node = this.decodeNode(cluster, name, raw);
      if (node) decoded.push(node);
    }
    decoded.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const state: StoredClusterState = {
      seq: toInt(meta[0]),
      epoch: toInt(meta[1]),
      nodes: decoded,
      podCounts: this.decodeCounts(cluster, pods),
      allocation: this.decodeAllocations(cluster, allocation),
      usage: this.decodeUsage(cluster, usage),
    };
    if (meta[2]) state.syncedAt = meta[2];
    return state;
  }

  /**
   * One node with its pod count, allocation and usage and the seq they reflect, or
   * `undefined` when the node is unknown.
   */
  async getNode(cluster: ClusterName, name: string): Promise<StoredNode | undefined> {
    const keys = this.keyspace.cluster(cluster);
    const [seq, raw, pods, allocation, usage] = await this.atomically<
      [string | null, string | null, string | null, string | null, (string | null)[]]
    >(
      this.redis
        .multi()
        .hget(keys.meta, 'seq')
        .hget(keys.nodes, name)
        .hget(keys.pods, name)
        .hget(keys.allocation, name)
        .hmget(keys.usageByNode, USAGE_POLL_FIELD, name),
    );
    if (raw === null) return undefined;
    const node = this.decodeNode(cluster, name, raw);
    if (!node) return undefined;
    return {
      seq: toInt(seq),
      node,
      podCount: toInt(pods),
      allocation:
        (allocation === null ? undefined : this.decodeAllocation(cluster, name, allocation)) ??
        EMPTY_ALLOCATION,
      usage: this.decodeNodeUsage(cluster, name, usage[0] ?? null, usage[1] ?? null),
    };
  }

  /** The pod counts of every node that has pods (absent = 0), with the seq they reflect. */
  async getPodCounts(cluster: ClusterName): Promise<{ seq: number; counts: Record<string, number> }> {
    const keys = this.keyspace.cluster(cluster);
    const [seq, pods] = await this.atomically<[string | null, Record<string, string>]>(
      this.redis.multi().hget(keys.meta, 'seq').hgetall(keys.pods),
    );
    return { seq: toInt(seq), counts: this.decodeCounts(cluster, pods) };
  }

  /** The allocation of every node whose pods take something (absent = none), with the seq it reflects. */
  async getAllocation(
    cluster: ClusterName,
  ): Promise<{ seq: number; allocation: Record<string, NodeAllocation> }> {
    const keys = this.keyspace.cluster(cluster);
    const [seq, allocation] = await this.atomically<[string | null, Record<string, string>]>(
      this.redis.multi().hget(keys.meta, 'seq').hgetall(keys.allocation),
    );
    return { seq: toInt(seq), allocation: this.decodeAllocations(cluster, allocation) };
  }

  /** The cluster's last usage poll with the seq it reflects (undefined before the first poll). */
  async getUsage(cluster: ClusterName): Promise<{ seq: number; usage: UsageSnapshot | undefined }> {
    const keys = this.keyspace.cluster(cluster);
    const [seq, usage] = await this.atomically<[string | null, string | null]>(
      this.redis.multi().hget(keys.meta, 'seq').get(keys.usage),
    );
    return { seq: toInt(seq), usage: this.decodeUsage(cluster, usage) };
  }

  /**
   * Envelopes with seq > afterSeq, oldest first, at most `limit` (default 1,000),
   * read from the events stream (`XRANGE <afterSeq+1>-0 +`) together with meta.seq.
   * `gap` when some of them are no longer there: the stream was trimmed past
   * afterSeq+1, or Redis lost its data and seq restarted (afterSeq > meta.seq). An
   * entry that does not decode is a gap too (reported via `onInvalid`): skipping it
   * would leave the caller's view without that change, and nothing would tell it.
   */
  async readEventsAfter(cluster: ClusterName, afterSeq: number, limit = 1_000): Promise<EventsAfterResult> {
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
      throw new RangeError(`afterSeq must be a non-negative integer, got ${afterSeq}`);
    }
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    const keys = this.keyspace.cluster(cluster);
    const [seqRaw, entries] = await this.atomically<[string | null, [string, string[]][]]>(
      this.redis
        .multi()
        .hget(keys.meta, 'seq')
        .xrange(keys.events, `${afterSeq + 1}-0`, '+', 'COUNT', limit),
    );
    const currentSeq = toInt(seqRaw);
    if (afterSeq > currentSeq) return { status: 'gap', lastSeq: currentSeq };
    if (afterSeq === currentSeq) return { status: 'ok', envelopes: [], lastSeq: afterSeq, currentSeq };
    const first = entries[0];
    if (!first || entrySeq(first[0]) !== afterSeq + 1) return { status: 'gap', lastSeq: currentSeq };
    const envelopes: Envelope[] = [];
    let lastSeq = afterSeq;
    for (const [id, fields] of entries) {
      lastSeq = entrySeq(id);
      const raw = fieldValue(fields, 'e');
      try {
        envelopes.push(decodeJson(EnvelopeSchema, raw ?? '', `${keys.events} entry ${id}`));
      } catch (err) {
        this.onInvalid(`${keys.events} entry ${id}`, raw ?? '', err as Error);
        return { status: 'gap', lastSeq: currentSeq };
      }
    }
    return { status: 'ok', envelopes, lastSeq, currentSeq };
  }

  private async summarise(name: string, rawEntry: string): Promise<ClusterSummary | undefined> {
    let entry;
    try {
      entry = decodeJson(ClusterRegistryEntrySchema, rawEntry, `${this.keyspace.clusters} entry ${name}`);
    } catch (err) {
      this.onInvalid(`${this.keyspace.clusters} entry ${name}`, rawEntry, err as Error);
      return undefined;
    }
    const rawMeta = await this.redis.hgetall(this.keyspace.cluster(entry.name).meta);
    let meta: ClusterMeta;
    try {
      meta = decode(ClusterMetaSchema, rawMeta, `meta of ${name}`);
    } catch (err) {
      this.onInvalid(`meta of ${name}`, JSON.stringify(rawMeta), err as Error);
      meta = decode(ClusterMetaSchema, {}, `meta of ${name}`);
    }
    const summary: ClusterSummary = {
      ...meta,
      name: entry.name,
      registeredAt: entry.registeredAt,
      status: this.statusOf(meta),
    };
    if (entry.server !== undefined) summary.server = entry.server;
    return summary;
  }

  /**
   * `stale` when the leader's heartbeat is older than staleAfterMs. A cluster that
   * has never had a heartbeat keeps its written status (a watcher is starting).
   */
  private statusOf(meta: ClusterMeta): ClusterStatus {
    if (meta.heartbeatAt === undefined) return meta.status;
    const beat = Date.parse(meta.heartbeatAt);
    if (Number.isNaN(beat) || this.clock().getTime() - beat > this.staleAfterMs) return 'stale';
    return meta.status;
  }

  private decodeNode(cluster: ClusterName, name: string, raw: string): NodeSnapshot | undefined {
    const subject = `${this.keyspace.cluster(cluster).nodes} field ${name}`;
    try {
      return decodeJson(NodeSnapshotSchema, raw, subject);
    } catch (err) {
      this.onInvalid(subject, raw, err as Error);
      return undefined;
    }
  }

  private decodeAllocation(cluster: ClusterName, name: string, raw: string): NodeAllocation | undefined {
    const subject = `${this.keyspace.cluster(cluster).allocation} field ${name}`;
    try {
      return decodeJson(NodeAllocationSchema, raw, subject);
    } catch (err) {
      this.onInvalid(subject, raw, err as Error);
      return undefined;
    }
  }

  private decodeAllocations(
    cluster: ClusterName,
    fields: Record<string, string>,
  ): Record<string, NodeAllocation> {
    const out: Record<string, NodeAllocation> = {};
    for (const [name, raw] of Object.entries(fields)) {
      const allocation = this.decodeAllocation(cluster, name, raw);
      if (allocation) out[name] = allocation;
    }
    return out;
  }

  /**
   * The usage snapshot, or undefined when there is none or it does not decode. With
   * `node`, only that node's entry is kept, and only it is validated (a snapshot of
   * thousands of nodes is parsed, not checked, for one node's answer).
   */
  private decodeUsage(cluster: ClusterName, raw: string | null): UsageSnapshot | undefined {
    if (raw === null) return undefined;
    const subject = this.keyspace.cluster(cluster).usage;
    try {
      return decodeJson(UsageSnapshotSchema, raw, subject);
    } catch (err) {
      this.onInvalid(subject, raw, err as Error);
      return undefined;
    }
  }

  /**
   * The usage snapshot narrowed to `node` (its `nodes` hold that node, or nothing when
   * the poll did not measure it), from the by-node hash: the poll without its nodes
   * and the node's field, not the whole snapshot of every node.
   */
  private decodeNodeUsage(
    cluster: ClusterName,
    node: string,
    poll: string | null,
    usage: string | null,
  ): UsageSnapshot | undefined {
    if (poll === null) return undefined;
    const subject = `${this.keyspace.cluster(cluster).usageByNode} field ${node}`;
    try {
      const parsed: unknown = JSON.parse(poll);
      if (isRecord(parsed) && parsed['available'] === true) {
        parsed['nodes'] = usage === null ? {} : { [node]: JSON.parse(usage) as unknown };
      }
      return decode(UsageSnapshotSchema, parsed, subject);
    } catch (err) {
      this.onInvalid(subject, `${poll} ${usage ?? ''}`, err as Error);
      return undefined;
    }
  }

  private decodeCounts(cluster: ClusterName, pods: Record<string, string>): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [name, raw] of Object.entries(pods)) {
      const n = Number(raw);
      if (Number.isSafeInteger(n) && n > 0) counts[name] = n;
      else
        this.onInvalid(
          `${this.keyspace.cluster(cluster).pods} field ${name}`,
          raw,
          new RangeError('not a positive integer'),
        );
    }
    return counts;
  }

  private async atomically<T extends unknown[]>(multi: {
    exec(): Promise<[Error | null, unknown][] | null>;
  }): Promise<T> {
    const results = await multi.exec();
    if (!results) throw new Error('MULTI was discarded');
    return results.map(([err, value]) => {
      if (err) throw err;
      return value;
    }) as T;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toInt(raw: string | null | undefined): number {
  const n = Number(raw ?? 0);
  return Number.isSafeInteger(n) ? n : 0;
}

function entrySeq(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

function fieldValue(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
