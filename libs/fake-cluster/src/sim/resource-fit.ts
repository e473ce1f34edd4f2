import { quantityToBaseUnits } from '@knm/contracts';
import type { KubeObject } from '../api/kube-object.js';
import type { PodAllocationIndex } from '../store/pod-allocation-index.js';

/**
 * The scheduler's NodeResourcesFit filter: whether `node`'s allocatable has room for
 * `requests` (a pod's effective requests, `podResourceTotals`) beside what the pods
 * already counting on it request. A resource the node does not offer has no room;
 * a pod requesting nothing fits anywhere.
 */
export function hasRoomFor(
  requests: Readonly<Record<string, number>>,
  node: KubeObject,
  allocation: PodAllocationIndex,
): boolean {
  const allocatable = (node.status?.['allocatable'] ?? {}) as Record<string, string>;
  for (const [resource, amount] of Object.entries(requests)) {
    const quantity = allocatable[resource];
    const offered = quantity === undefined ? 0 : (quantityToBaseUnits(resource, quantity) ?? 0);
    if (allocation.requested(node.metadata.name, resource) + amount > offered) return false;
  }
  return true;
}
