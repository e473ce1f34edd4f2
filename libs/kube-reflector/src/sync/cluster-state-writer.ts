import type { NodeAllocation, NodeSnapshot, ResyncReason } from '@knm/contracts';
import type { NodeCacheChange } from '../node-cache.js';

/** The status a watcher reports (`stale` is derived by readers, never written). */
export type WatcherStatus = 'syncing' | 'ready' | 'degraded';

/** What the store holds of the cluster, read in one atomic step. */
export interface StoredClusterState {
  /** The seq of the last envelope applied to this state. */
  seq: number;
  nodes: readonly NodeSnapshot[];
  /** Non-zero pod counts by node name. */
  podCounts: Readonly<Record<string, number>>;
  /** Non-empty allocations (the sums of the counted pods' requests and limits) by node name. */
  allocation: Readonly<Record<string, NodeAllocation>>;
  /**
   * The time of the last completed (re)list. Absent when the store holds no state of
   * the cluster's current life (never rebuilt, or its data was lost): then continuity
   * cannot be proven and only a rebuild (with `resync`) is exact.
   */
  syncedAt?: string;
}

/**
 * Nodes staged ahead of a rebuild ({@link ClusterStateWriter.stageRebuild}): opaque to
 * the engine, handed back to `rebuild` once.
 */
export interface StagedNodes {
  /** How many nodes are staged. */
  readonly size: number;
}

/**
 * Where {@link ClusterSync} writes one cluster's state: the seam in front of
 * `@knm/node-store`'s `NodeStoreWriter` (which satisfies it as is). Every write is one
 * atomic, fenced step; the engine awaits each before making the next, so envelopes
 * come out in call order. A fenced writer rejects every write (the engine asks its
 * `isFenced` option which errors mean that).
 */
export interface ClusterStateWriter {
  /** What the store holds of the cluster now (not fenced: a read). */
  readState(): Promise<StoredClusterState>;
  /**
   * Stages `nodes` for a rebuild to come, invisibly to readers (nothing changes until
   * the rebuild's fenced swap; an unused staging expires on its own), so that the
   * rebuild writes only the nodes that changed since.
   */
  stageRebuild(nodes: readonly NodeSnapshot[]): Promise<StagedNodes>;
  /**
   * Replaces all nodes, pod counts and allocation in one swap and emits one `resync`
   * envelope; leaves status `ready`. `staged`: this writer's staging of the nodes, used once.
   */
  rebuild(input: {
    nodes: readonly NodeSnapshot[];
    podCounts: Readonly<Record<string, number>>;
    allocation: Readonly<Record<string, NodeAllocation>>;
    reason: ResyncReason;
    staged?: StagedNodes;
  }): Promise<number>;
  /** Applies node changes in order, one envelope each. */
  applyNodeChanges(changes: readonly NodeCacheChange[]): Promise<number>;
  /**
   * In one step: adds per-node pod-count deltas and sets the absolute allocation of
   * the nodes in `allocation` (empty = none left); emits a `pod_counts` envelope for
   * the counts and an `allocation` envelope for the allocations that changed. Rejects
   * when a count would have gone below 0 (the store disagrees with the index), also
   * after writing: the engine then repairs, rewriting the counts from the index.
   */
  applyPodDeltas(
    deltas: Readonly<Record<string, number>>,
    allocation: Readonly<Record<string, NodeAllocation>>,
  ): Promise<number>;
  /** Records the time a (re)list completed as `syncedAt` (never moves it back); no envelope. */
  markSynced(listedAt: Date): Promise<void>;
  /** Sets the cluster status (and error); emits `cluster_status` when it changed. */
  setStatus(status: WatcherStatus, error?: string): Promise<void>;
  /** Refreshes the leader's heartbeat time. */
  heartbeat(): Promise<void>;
}
