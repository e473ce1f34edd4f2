import { z } from 'zod';
import { NodeSnapshotSchema, projectNode, type KubeNodeLike } from '@knm/contracts';
import type { ClusterStore } from '../store/cluster-store.js';
import type { PodCountIndex } from '../store/pod-count-index.js';

/**
 * The ground truth of a simulated cluster (`GET /_sim/truth`): what every consumer
 * (watcher, Redis, gateway, browser) must converge to.
 * - `resourceVersion`: the cluster's version when the truth was taken.
 * - `nodes`: every node, projected with `projectNode` from `@knm/contracts`.
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

/** Computes the {@link Truth} of `store` (nodes in name order). */
export function computeTruth(store: ClusterStore, podCounts: PodCountIndex): Truth {
  const nodes: Truth['nodes'] = {};
  for (const node of store.kind('Node').sorted()) {
    nodes[node.metadata.name] = projectNode(node as KubeNodeLike);
  }
  return { resourceVersion: String(store.resourceVersion), nodes, podCounts: podCounts.toRecord() };
}
