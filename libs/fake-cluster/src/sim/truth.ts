import { z } from 'zod';
import { NodeSnapshotSchema } from '@knm/contracts';
import type { NodeSnapshotIndex } from '../store/node-snapshot-index.js';
import type { PodsPerNodeCount } from '../store/pods-per-node-count.js';

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
 */
export const TruthSchema = z.object({
  resourceVersion: z.string(),
  nodes: z.record(z.string(), NodeSnapshotSchema),
  podCounts: z.record(z.string(), z.number().int().positive()),
});
/** See {@link TruthSchema}. */
export type Truth = z.infer<typeof TruthSchema>;

/**
 * Computes the {@link Truth} at `resourceVersion` from the store's incremental
 * indexes (nodes in name order). The snapshots are copies: the caller may keep or
 * change them.
 */
export function computeTruth(
  resourceVersion: number,
  nodes: NodeSnapshotIndex,
  podCounts: PodsPerNodeCount,
): Truth {
  return {
    resourceVersion: String(resourceVersion),
    nodes: nodes.toRecord(),
    podCounts: podCounts.toRecord(),
  };
}
