import type { NodeSnapshot } from '@knm/contracts';

/**
 * A node snapshot for tests: a Ready linux node named `name` with plausible
 * capacity; `over` replaces whole fields. The one builder the suites share, so a
 * field added to `NodeSnapshot` is added here once.
 */
export function makeNodeSnapshot(name: string, over: Partial<NodeSnapshot> = {}): NodeSnapshot {
  return {
    name,
    uid: `uid-${name}`,
    resourceVersion: '1',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { 'kubernetes.io/hostname': name },
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
      osImage: 'Ubuntu 24.04',
      kernelVersion: '6.8.0',
      containerRuntimeVersion: 'containerd://1.7.0',
      architecture: 'amd64',
      operatingSystem: 'linux',
    },
    podCIDRs: [],
    ...over,
  };
}
