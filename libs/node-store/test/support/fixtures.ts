import type { Redis } from 'ioredis';
import { EnvelopeSchema, decodeJson, type Envelope, type Keyspace, type NodeSnapshot } from '@knm/contracts';

/** A realistic node snapshot named `name` (about 1.5 KB of JSON; `pad` adds bytes to a label). */
export function makeNode(name: string, overrides: Partial<NodeSnapshot> = {}, pad = 0): NodeSnapshot {
  return {
    name,
    uid: `uid-${name}`,
    resourceVersion: '1',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: {
      'kubernetes.io/hostname': name,
      'kubernetes.io/os': 'linux',
      'node-role.kubernetes.io/worker': '',
      'topology.kubernetes.io/zone': 'eu-west-1a',
      ...(pad > 0 ? { 'example.com/padding': 'x'.repeat(pad) } : {}),
    },
    annotations: {},
    taints: [],
    unschedulable: false,
    roles: ['worker'],
    ready: 'True',
    conditions: [
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory' },
      { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure' },
    ],
    addresses: [
      { type: 'InternalIP', address: '10.0.0.1' },
      { type: 'Hostname', address: name },
    ],
    capacity: { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' },
    allocatable: { cpu: '7800m', memory: '30Gi', pods: '110', 'ephemeral-storage': '95Gi' },
    nodeInfo: {
      kubeletVersion: 'v1.33.1',
      osImage: 'Ubuntu 24.04 LTS',
      kernelVersion: '6.8.0-1015-aws',
      containerRuntimeVersion: 'containerd://2.0.5',
      architecture: 'amd64',
      operatingSystem: 'linux',
    },
    podCIDRs: ['10.244.1.0/24'],
    ...overrides,
  };
}

/** Every envelope in a cluster's events stream, decoded (throws on a bad one). */
export async function readStream(redis: Redis, keyspace: Keyspace, cluster: string): Promise<Envelope[]> {
  const entries = await redis.xrange(keyspace.cluster(cluster as never).events, '-', '+');
  return entries.map(([id, fields]) => {
    const envelope = decodeJson(EnvelopeSchema, fields[1] ?? '', `entry ${id}`);
    if (fields[0] !== 'e' || id !== `${envelope.seq}-0`)
      throw new Error(`bad entry ${id}: ${fields.join(' ')}`);
    return envelope;
  });
}

/** Collects decoded envelopes published on a cluster's channel (on its own connection). */
export async function collectChannel(
  subscriber: Redis,
  keyspace: Keyspace,
  cluster: string,
): Promise<{ received: Envelope[]; raw: string[] }> {
  const channel = keyspace.cluster(cluster as never).changes;
  const received: Envelope[] = [];
  const raw: string[] = [];
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    raw.push(message);
    received.push(decodeJson(EnvelopeSchema, message, 'channel message'));
  });
  await subscriber.subscribe(channel);
  return { received, raw };
}
