import { nodeResources, type NodeView } from '@knm/contracts';

/**
 * A ready worker node for specs: 8 cores, 32 GiB, 10 of 110 pods, zone-a; `over`
 * replaces fields. Its `resources` follow its allocatable and pod count (no
 * allocation, no usage) unless `over` gives them.
 */
export function testNode(name: string, over: Partial<NodeView> = {}): NodeView {
  const { resources, ...rest } = over;
  const node: Omit<NodeView, 'resources'> = {
    name,
    uid: `uid-${name}`,
    resourceVersion: '1',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': 'zone-a' },
    annotations: {},
    taints: [],
    unschedulable: false,
    roles: [],
    ready: 'True',
    conditions: [{ type: 'Ready', status: 'True' }],
    addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
    capacity: { cpu: '8', memory: '32Gi', pods: '110' },
    allocatable: { cpu: '7800m', memory: '30Gi', pods: '110' },
    nodeInfo: {
      kubeletVersion: 'v1.31.0',
      osImage: 'Ubuntu',
      kernelVersion: '6.8',
      containerRuntimeVersion: 'containerd://1.7',
      architecture: 'amd64',
      operatingSystem: 'linux',
    },
    podCIDRs: [],
    podCount: 10,
    podCapacity: 110,
    ...rest,
  };
  return { ...node, resources: resources ?? nodeResources(node, node.podCount, undefined, undefined) };
}
