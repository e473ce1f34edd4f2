import type { NodeSnapshot, ResyncReason } from '@knm/contracts';
import type { NodeCacheChange } from '../node-cache.js';

/** The status a watcher reports (`stale` is derived by readers, never written). */
export type WatcherStatus = 'syncing' | 'ready' | 'degraded';

/**
 * Where {@link ClusterSync} writes one cluster's state: the seam in front of
 * `@knm/node-store`'s `NodeStoreWriter` (which satisfies it as is). Every call is one
 * atomic, fenced step; the engine awaits each before making the next, so envelopes
 * come out in call order. A fenced writer rejects every call (the engine asks its
 * `isFenced` option which errors mean that).
 */
export interface ClusterStateWriter {
  /** Replaces all nodes and pod counts in one swap and emits one `resync` envelope; leaves status `ready`. */
  rebuild(input: {
    nodes: readonly NodeSnapshot[];
    podCounts: Readonly<Record<string, number>>;
    reason: ResyncReason;
  }): Promise<number>;
  /** Applies node changes in order, one envelope each. */
  applyNodeChanges(changes: readonly NodeCacheChange[]): Promise<number>;
  /** Adds per-node pod-count deltas and emits one `pod_counts` envelope. */
  applyPodDeltas(deltas: Readonly<Record<string, number>>): Promise<number>;
  /** Sets the cluster status (and error); emits `cluster_status` when it changed. */
  setStatus(status: WatcherStatus, error?: string): Promise<void>;
  /** Refreshes the leader's heartbeat time. */
  heartbeat(): Promise<void>;
}
