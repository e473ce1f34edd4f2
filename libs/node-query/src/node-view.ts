import {
  nodeResources,
  podCapacityOf,
  type NodeAllocation,
  type NodeSnapshot,
  type NodeUsage,
  type NodeView,
} from '@knm/contracts';

/**
 * The REST view of a node: its snapshot plus its pod count, pod capacity and
 * resources (allocatable against what its pods request and limit, and its usage
 * from the cluster's last metrics poll when that measured it).
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
