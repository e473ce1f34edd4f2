import { z } from 'zod';
import { NodeSnapshotSchema } from '@knm/contracts';
import type { Cluster } from './cluster.js';
import type { MetricsSnapshot } from './metrics-snapshot.js';

const AmountsSchema = z.record(z.string(), z.number().positive());

/**
 * The ground truth of a simulated cluster (`GET /_sim/truth`): what every consumer
 * (watcher, Redis, gateway, browser) must converge to.
 * - `resourceVersion`: the cluster's version when the truth was taken.
 * - `nodes`: every node, projected with `projectNode` from `@knm/contracts`, as of
 *   its last change that mattered: its `resourceVersion` is the one of the node's
 *   last change that altered its projection (added, re-created with another uid, or
 *   a MODIFIED with a non-empty `diffNodeSnapshots`), not the latest one, which
 *   every kubelet heartbeat bumps. That is exactly what a watcher that drops
 *   heartbeat-only updates holds, including after a relist (its node cache keeps the
 *   held snapshot when the projection did not change), provided it saw the node's
 *   last change that mattered, as a watch event or in a list taken before the
 *   heartbeats that followed it. A watcher that did not (its first list, or a 410
 *   relist after a gap in which the node changed and then heartbeated) can only
 *   learn the object's latest version and holds that until the node's next change
 *   that matters; every other field still equals the truth. Tests that compare
 *   exactly start heartbeats once their watchers have synced.
 * - `podCounts`: per node, the pods bound to it whose phase is not Succeeded or
 *   Failed (terminating pods count until deleted); only non-zero counts appear.
 * - `allocation`: per node, the sums of `podResourceTotals` (`@knm/contracts`: the
 *   scheduler's effective requests and limits) over the same pods as `podCounts`,
 *   in base units (cpu in millicores, memory, storage and hugepages in bytes, the
 *   rest as counts); only non-zero entries, and nodes with some, appear.
 * - `usage`: the metrics snapshot `metrics.k8s.io` serves now: its `timestamp` and
 *   `window` as served, and per node cpu in millicores (nanocores / 10^6, so
 *   possibly fractional) and memory in bytes; null when the metrics API is off.
 */
export const TruthSchema = z.object({
  resourceVersion: z.string(),
  nodes: z.record(z.string(), NodeSnapshotSchema),
  podCounts: z.record(z.string(), z.number().int().positive()),
  allocation: z.record(z.string(), z.object({ requests: AmountsSchema, limits: AmountsSchema })),
  usage: z
    .object({
      timestamp: z.string(),
      window: z.string(),
      nodes: z.record(
        z.string(),
        z.object({ cpu: z.number().nonnegative(), memory: z.number().nonnegative() }),
      ),
    })
    .nullable(),
});
/** See {@link TruthSchema}. */
export type Truth = z.infer<typeof TruthSchema>;

/**
 * Computes the {@link Truth} now from the cluster's incremental indexes (nodes in
 * name order) and the metrics snapshot, if any. Everything returned is a copy: the
 * caller may keep or change it.
 */
export function computeTruth(cluster: Cluster, metrics: MetricsSnapshot | undefined): Truth {
  return {
    resourceVersion: String(cluster.store.resourceVersion),
    nodes: cluster.nodeSnapshots.toRecord(),
    podCounts: cluster.podCounts.toRecord(),
    allocation: cluster.allocation.toRecord(),
    usage: metrics
      ? { timestamp: metrics.timestamp, window: metrics.window, nodes: metrics.nodeUsage() }
      : null,
  };
}
