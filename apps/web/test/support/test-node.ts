import { nodeResources, type NodeView } from '@knm/contracts';
import { makeNodeSnapshot } from '@knm/testing';

/**
 * A ready worker node for specs: @knm/testing's node snapshot (8 cores, 32 GiB) in
 * zone-a with 10 of 110 pods; `over` replaces fields. Its `resources` follow its
 * allocatable and pod count (no allocation, no usage) unless `over` gives them.
 */
export function testNode(name: string, over: Partial<NodeView> = {}): NodeView {
  const { resources, ...rest } = over;
  const node: Omit<NodeView, 'resources'> = {
    ...makeNodeSnapshot(name, {
      labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': 'zone-a' },
    }),
    podCount: 10,
    podCapacity: 110,
    ...rest,
  };
  return { ...node, resources: resources ?? nodeResources(node, node.podCount, undefined, undefined) };
}
