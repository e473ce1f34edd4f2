import {
  ClusterMetaSchema,
  ClusterRegistryEntrySchema,
  EnvelopeSchema,
  NodeSnapshotSchema,
  decode,
  decodeJson,
  type ClusterMeta,
  type ClusterName,
  type ClusterStatus,
  type Envelope,
  type Keyspace,
  type NodeSnapshot,
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

/** A cluster's nodes and pod counts as of `seq` (the seq of the last envelope applied to them). */
export interface ClusterSnapshot {
  seq: number;
  /** The fencing epoch recorded in meta (of the leader that acquired last). */
  epoch: number;
  nodes: NodeSnapshot[];
  podCounts: Record<string, number>;
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
   * Called with every stored value that does not decode (a node, a registry entry,
   * a stream entry); the value is skipped, never thrown. Default: ignored.
   */
  onInvalid?: (subject: string, raw: string, err: Error) => void;
}

/**
 * Reads for the gateways. Snapshot reads (`getSnapshot`, `getNode`, `getPodCounts`)
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

  /** All nodes and pod counts of a cluster with the seq they reflect, read atomically. */
  async getSnapshot(cluster: ClusterName): Promise<ClusterSnapshot> {
    const { seq, epoch, nodes, podCounts } = await this.getStoredState(cluster);
    return { seq, epoch, nodes, podCounts };
  }

  /**
   * {@link NodeStoreReader.getSnapshot} plus meta.syncedAt, in one MULTI: the watcher
   * reads it to write only what differs from its caches (and to learn whether Redis
   * holds any state of this life at all).
   */
  async getStoredState(cluster: ClusterName): Promise<StoredClusterState> {
    const keys = this.keyspace.cluster(cluster);
    const [meta, nodes, pods] = await this.atomically<
      [(string | null)[], Record<string, string>, Record<string, string>]
    >(this.redis.multi().hmget(keys.meta, 'seq', 'epoch', 'syncedAt').hgetall(keys.nodes).hgetall(keys.pods));
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
    };
    if (meta[2]) state.syncedAt = meta[2];
    return state;
  }

  /** One node with its pod count and the seq it reflects, or `undefined` when the node is unknown. */
  async getNode(
    cluster: ClusterName,
    name: string,
  ): Promise<{ seq: number; node: NodeSnapshot; podCount: number } | undefined> {
    const keys = this.keyspace.cluster(cluster);
    const [seq, raw, pods] = await this.atomically<[string | null, string | null, string | null]>(
      this.redis.multi().hget(keys.meta, 'seq').hget(keys.nodes, name).hget(keys.pods, name),
    );
    if (raw === null) return undefined;
    const node = this.decodeNode(cluster, name, raw);
    if (!node) return undefined;
    return { seq: toInt(seq), node, podCount: toInt(pods) };
  }

  /** The pod counts of every node that has pods (absent = 0), with the seq they reflect. */
  async getPodCounts(cluster: ClusterName): Promise<{ seq: number; counts: Record<string, number> }> {
    const keys = this.keyspace.cluster(cluster);
    const [seq, pods] = await this.atomically<[string | null, Record<string, string>]>(
      this.redis.multi().hget(keys.meta, 'seq').hgetall(keys.pods),
    );
    return { seq: toInt(seq), counts: this.decodeCounts(cluster, pods) };
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
