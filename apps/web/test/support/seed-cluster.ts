import { toClusterName, type NodeSnapshot } from '@knm/contracts';
import { NodeStoreWriter } from '@knm/node-store';
import { makeNodeSnapshot, type TestRedis } from '@knm/testing';

/** A Ready edge node snapshot named `name` (4 cores, 16 GiB) in `zone`. */
export function snapshot(name: string, zone = 'edge-1a'): NodeSnapshot {
  return makeNodeSnapshot(name, {
    labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone, site: 'edge' },
    capacity: { cpu: '4', memory: '16Gi', pods: '110' },
    allocatable: { cpu: '3800m', memory: '15Gi', pods: '110' },
  });
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
