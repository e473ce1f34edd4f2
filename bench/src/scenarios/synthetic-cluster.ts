import { Redis } from 'ioredis';
import { toClusterName, type NodeAllocation, type NodeSnapshot, type UsageSnapshot } from '@knm/contracts';
import type { NodeQueryInput } from '@knm/node-query';
import { benchWriter } from '../harness/processes.js';

/** A realistic node of a synthetic cluster: three zones, a GPU node in ten, a cordoned one in fifty. */
export function syntheticNode(i: number): NodeSnapshot {
  const name = `node-${String(i).padStart(5, '0')}`;
  const ready = i % 40 === 0 ? 'False' : 'True';
  return {
    name,
    uid: `uid-${i}`,
    resourceVersion: String(i + 1),
    creationTimestamp: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    labels: {
      'kubernetes.io/hostname': name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'topology.kubernetes.io/zone': `zone-${'abc'[i % 3]}`,
      'node.kubernetes.io/instance-type': i % 10 === 0 ? 'g5.4xlarge' : 'm6i.2xlarge',
      ...(i < 3 ? { 'node-role.kubernetes.io/control-plane': '' } : { 'node-role.kubernetes.io/worker': '' }),
    },
    annotations: {},
    taints: i % 10 === 0 ? [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] : [],
    unschedulable: i % 50 === 0,
    roles: i < 3 ? ['control-plane'] : ['worker'],
    ready,
    conditions: [
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
      { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure' },
      { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID' },
      { type: 'Ready', status: ready, reason: 'KubeletReady' },
    ],
    addresses: [
      { type: 'InternalIP', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
      { type: 'Hostname', address: name },
    ],
    capacity: { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' },
    allocatable: { cpu: '7800m', memory: '30Gi', pods: '110', 'ephemeral-storage': '95Gi' },
    nodeInfo: {
      kubeletVersion: 'v1.32.0',
      osImage: 'Ubuntu 24.04 LTS',
      kernelVersion: '6.8.0-1015-aws',
      containerRuntimeVersion: 'containerd://1.7.22',
      architecture: 'amd64',
      operatingSystem: 'linux',
    },
    podCIDRs: [`100.64.${(i >> 8) & 255}.${i & 255}/24`],
  };
}

/** What a node's pods take of it: requests spread over 0-99% of its 7,800 millicores, limits above. */
export function syntheticAllocation(i: number): NodeAllocation {
  const cpu = Math.round(((i * 37) % 100) * 78);
  const memory = ((i * 53) % 100) * 300 * 2 ** 20;
  return {
    requests: { cpu, memory, ...(i % 10 === 0 ? { 'nvidia.com/gpu': i % 4 } : {}) },
    limits: { cpu: cpu * 2, memory: memory + 2 ** 30 },
  };
}

/** The cluster as the bench writes it: nodes, pod counts, allocation and one usage poll. */
export interface SyntheticCluster extends NodeQueryInput {
  allocation: Record<string, NodeAllocation>;
  usage: UsageSnapshot;
}

/**
 * `nodes` synthetic nodes and about `pods` pods over them; `first` is the first
 * node's number, so that the clusters of a fleet differ (names, figures).
 */
export function syntheticCluster(nodes: number, pods: number, first = 0): SyntheticCluster {
  const snapshots = Array.from({ length: nodes }, (_, i) => syntheticNode(first + i));
  const perNode = pods / nodes;
  const podCounts = Object.fromEntries(
    snapshots.map((n, i) => [n.name, Math.max(0, Math.round(perNode + (((first + i) * 7) % 21) - 10))]),
  );
  const allocation = Object.fromEntries(snapshots.map((n, i) => [n.name, syntheticAllocation(first + i)]));
  const usage: UsageSnapshot = {
    available: true,
    polledAt: new Date().toISOString(),
    window: '15s',
    nodes: Object.fromEntries(
      snapshots.map((n, i) => [
        n.name,
        { cpu: ((first + i) * 29) % 7_800, memory: (((first + i) * 31) % 100) * 2 ** 28 },
      ]),
    ),
  };
  return { nodes: snapshots, podCounts, allocation, usage, seq: 1, epoch: 1 };
}

/** Writes `cluster` through the real writer: nodes, pod counts and allocation in one rebuild, then a usage poll. */
export async function seedCluster(
  redisUrl: string,
  namespace: string,
  name: string,
  cluster: SyntheticCluster,
): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    const writer = await benchWriter(redis, namespace, toClusterName(name));
    await writer.register({});
    await writer.rebuild({
      nodes: [...cluster.nodes],
      podCounts: cluster.podCounts,
      allocation: cluster.allocation,
      reason: 'rebuild',
    });
    await writer.setUsage(cluster.usage);
    await writer.heartbeat();
  } finally {
    redis.disconnect();
  }
}
