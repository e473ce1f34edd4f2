import { toClusterName, type NodeSnapshot } from '@knm/contracts';
import { NodeStoreWriter } from '@knm/node-store';
import type { TestRedis } from '@knm/testing';

/** A minimal Ready node snapshot named `name`. */
export function snapshot(name: string, zone = 'edge-1a'): NodeSnapshot {
  return {
    name,
    uid: `uid-${name}`,
    resourceVersion: '1',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone, site: 'edge' },
    annotations: {},
    taints: [],
    unschedulable: false,
    roles: [],
    ready: 'True',
    conditions: [{ type: 'Ready', status: 'True' }],
    addresses: [{ type: 'InternalIP', address: '10.9.0.1' }],
    capacity: { cpu: '4', memory: '16Gi', pods: '110' },
    allocatable: { cpu: '3800m', memory: '15Gi', pods: '110' },
    nodeInfo: {
      kubeletVersion: 'v1.30.4',
      osImage: 'Ubuntu 24.04',
      kernelVersion: '6.8.0',
      containerRuntimeVersion: 'containerd://1.7.0',
      architecture: 'arm64',
      operatingSystem: 'linux',
    },
    podCIDRs: [],
  };
}

/**
 * A second cluster written straight to Redis through node-store's real writer (no
 * watcher behind it), for the cluster switcher: its nodes, pod counts and a status.
 */
export async function seedCluster(
  redis: TestRedis,
  name: string,
  nodes: readonly NodeSnapshot[],
  podCounts: Readonly<Record<string, number>>,
): Promise<NodeStoreWriter> {
  const cluster = toClusterName(name);
  const epoch = await redis.client.incr(redis.keyspace.cluster(cluster).epoch);
  const writer = new NodeStoreWriter(redis.client, redis.keyspace, cluster, epoch, `e2e-seed-${epoch}`);
  await writer.register({ server: 'https://edge.example' });
  await writer.rebuild({ nodes, podCounts, reason: 'rebuild' });
  await writer.heartbeat();
  return writer;
}
