import type { NodeSnapshot } from './node-snapshot.js';
import { nodeResources, type NodeAllocation, type NodeUsage } from './node-resources.js';
import { podCapacityOf } from './pod-capacity.js';
import type { NodeView } from './rest-api.js';

/**
 * The REST view of a node: its snapshot plus its pod count, pod capacity and
 * resources (allocatable against what its pods request and limit, and its usage
 * from the cluster's last metrics poll when that measured it). The one way the
 * gateway's answers and the SDK's view build it.
 */
export function toNodeView(
  node: NodeSnapshot,
  podCount: number,
  allocation?: NodeAllocation,
  usage?: NodeUsage,
): NodeView {
  return {
    ...node,
    podCount,
    podCapacity: podCapacityOf(node),
    resources: nodeResources(node, podCount, allocation, usage),
  };
}
