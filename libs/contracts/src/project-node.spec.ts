import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diffNodeSnapshots, type NodeAspect } from './node-changes.js';
import { ANNOTATION_CORDON_REASON, NodeSnapshotSchema } from './node-snapshot.js';
import { projectNode, type KubeNodeLike } from './project-node.js';

interface RawNode extends KubeNodeLike {
  metadata: NonNullable<KubeNodeLike['metadata']> & {
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: NonNullable<KubeNodeLike['spec']>;
  status: NonNullable<KubeNodeLike['status']> & {
    conditions: NonNullable<NonNullable<KubeNodeLike['status']>['conditions']>;
    capacity: Record<string, string>;
    allocatable: Record<string, string>;
    addresses: { type: string; address: string }[];
    nodeInfo: Record<string, string>;
  };
}

const worker = (): RawNode =>
  JSON.parse(readFileSync(new URL('./testdata/worker-node.json', import.meta.url), 'utf8')) as RawNode;

/** What a kubelet heartbeat does: new resourceVersion, new heartbeat times, bookkeeping annotations. */
function heartbeat(node: RawNode): RawNode {
  const next = structuredClone(node);
  next.metadata.resourceVersion = String(Number(node.metadata.resourceVersion) + 17);
  for (const c of next.status.conditions) c.lastHeartbeatTime = '2026-11-22T10:01:52Z';
  next.metadata.annotations['node.alpha.kubernetes.io/ttl'] = '15';
  return next;
}

describe('projectNode', () => {
  it('keeps a taint whose effect it does not know (a newer Kubernetes), and the node still decodes', () => {
    const node = worker();
    node.spec.taints = [{ key: 'example.com/quota', effect: 'NoScheduleIfBusy' }];
    const snap = projectNode(node);
    expect(snap.taints).toEqual([{ key: 'example.com/quota', effect: 'NoScheduleIfBusy' }]);
    expect(NodeSnapshotSchema.parse(JSON.parse(JSON.stringify(snap)))).toEqual(snap);
  });

  it('keeps what matters of a real-shaped Node and nothing heartbeat-related', () => {
    const snap = projectNode(worker());
    expect(NodeSnapshotSchema.parse(snap)).toEqual(snap);
    expect(snap).toMatchObject({
      name: 'worker-3',
      uid: '5c0f7d2e-3a8e-4b7c-9d51-2f1e7a9c6b40',
      resourceVersion: '184467',
      creationTimestamp: '2026-10-02T08:14:51Z',
      unschedulable: false,
      roles: ['worker'],
      ready: 'True',
      annotations: {},
      taints: [{ key: 'dedicated', value: 'batch', effect: 'PreferNoSchedule' }],
      addresses: [
        { type: 'InternalIP', address: '10.0.3.17' },
        { type: 'Hostname', address: 'worker-3' },
      ],
      podCIDRs: ['10.244.3.0/24'],
      nodeInfo: {
        kubeletVersion: 'v1.32.4',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0-27-cloud-amd64',
        containerRuntimeVersion: 'containerd://1.7.24',
        architecture: 'amd64',
        operatingSystem: 'linux',
      },
    });
    expect(snap.capacity['pods']).toBe('110');
    expect(snap.allocatable['cpu']).toBe('7910m');
    expect(snap.conditions).toHaveLength(4);
    expect(snap.conditions[3]).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'KubeletReady',
      message: 'kubelet is posting ready status',
      lastTransitionTime: '2026-10-02T08:15:22Z',
    });
    expect(JSON.stringify(snap)).not.toMatch(/lastHeartbeatTime|images|machineID|bootID|managedFields/);
  });

  it('projects client-node style objects (Date timestamps) exactly like raw JSON', () => {
    const raw = worker();
    const decoded = structuredClone(raw) as unknown as {
      metadata: { creationTimestamp: Date };
      status: { conditions: { lastTransitionTime: Date; lastHeartbeatTime: Date }[] };
    };
    decoded.metadata.creationTimestamp = new Date(raw.metadata.creationTimestamp as string);
    raw.status.conditions.forEach((c, i) => {
      const d = decoded.status.conditions[i];
      if (!d) throw new Error('condition missing');
      d.lastTransitionTime = new Date(c.lastTransitionTime as string);
      d.lastHeartbeatTime = new Date(c.lastHeartbeatTime as string);
    });
    expect(projectNode(decoded as unknown as KubeNodeLike)).toEqual(projectNode(raw));
  });

  it('projects a node with no spec or status yet (just registered) without throwing', () => {
    const snap = projectNode({ metadata: { name: 'fresh', uid: 'u1', resourceVersion: '1' } });
    expect(snap).toMatchObject({
      name: 'fresh',
      ready: 'Unknown',
      roles: [],
      taints: [],
      conditions: [],
      podCIDRs: [],
    });
    expect(NodeSnapshotSchema.safeParse(snap).success).toBe(true);
  });

  it('derives roles from node-role labels and the legacy kubernetes.io/role label, sorted and unique', () => {
    const node = worker();
    node.metadata.labels['node-role.kubernetes.io/control-plane'] = '';
    node.metadata.labels['node-role.kubernetes.io/'] = '';
    node.metadata.labels['kubernetes.io/role'] = 'worker';
    expect(projectNode(node).roles).toEqual(['control-plane', 'worker']);
  });

  it('reports Ready False and Unknown as they are', () => {
    const node = worker();
    const ready = node.status.conditions.find((c) => c.type === 'Ready');
    if (!ready) throw new Error('fixture has no Ready condition');
    ready.status = 'False';
    expect(projectNode(node).ready).toBe('False');
    ready.status = 'Unknown';
    expect(projectNode(node).ready).toBe('Unknown');
    node.status.conditions = node.status.conditions.filter((c) => c.type !== 'Ready');
    expect(projectNode(node).ready).toBe('Unknown');
  });
});

describe('diffNodeSnapshots', () => {
  const cases: { name: string; mutate: (n: RawNode) => void; expected: NodeAspect[] }[] = [
    { name: 'heartbeat only', mutate: () => undefined, expected: [] },
    {
      name: 'label added',
      mutate: (n) => void (n.metadata.labels['env'] = 'prod'),
      expected: ['labels'],
    },
    {
      name: 'label removed',
      mutate: (n) => void delete n.metadata.labels['topology.kubernetes.io/zone'],
      expected: ['labels'],
    },
    {
      name: 'label overwritten',
      mutate: (n) => void (n.metadata.labels['node.kubernetes.io/instance-type'] = 'm6i.4xlarge'),
      expected: ['labels'],
    },
    {
      name: 'role label added (roles follow labels)',
      mutate: (n) => void (n.metadata.labels['node-role.kubernetes.io/gpu'] = ''),
      expected: ['labels'],
    },
    {
      name: 'taint added',
      mutate: (n) => void n.spec.taints?.push({ key: 'maintenance', value: 'true', effect: 'NoSchedule' }),
      expected: ['taints'],
    },
    { name: 'taints removed', mutate: (n) => void (n.spec.taints = null), expected: ['taints'] },
    { name: 'cordon', mutate: (n) => void (n.spec.unschedulable = true), expected: ['schedulable'] },
    {
      name: 'cordon with a reason annotation',
      mutate: (n) => {
        n.spec.unschedulable = true;
        n.metadata.annotations[ANNOTATION_CORDON_REASON] = 'kernel upgrade';
      },
      expected: ['annotations', 'schedulable'],
    },
    {
      name: 'Ready flips to False',
      mutate: (n) => {
        const ready = n.status.conditions.find((c) => c.type === 'Ready');
        if (!ready) throw new Error('no Ready');
        ready.status = 'False';
        ready.reason = 'KubeletNotReady';
        ready.lastTransitionTime = '2026-11-22T10:02:00Z';
      },
      expected: ['status'],
    },
    {
      name: 'a pressure condition turns True',
      mutate: (n) => {
        const disk = n.status.conditions.find((c) => c.type === 'DiskPressure');
        if (!disk) throw new Error('no DiskPressure');
        disk.status = 'True';
      },
      expected: ['status'],
    },
    {
      name: 'capacity changes',
      mutate: (n) => void (n.status.capacity['memory'] = '64773088Ki'),
      expected: ['capacity'],
    },
    {
      name: 'a GPU appears in capacity and allocatable',
      mutate: (n) => {
        n.status.capacity['nvidia.com/gpu'] = '4';
        n.status.allocatable['nvidia.com/gpu'] = '4';
      },
      expected: ['capacity', 'allocatable'],
    },
    {
      name: 'address changes',
      mutate: (n) => void n.status.addresses.push({ type: 'ExternalIP', address: '203.0.113.9' }),
      expected: ['addresses'],
    },
    {
      name: 'kubelet upgraded',
      mutate: (n) => void (n.status.nodeInfo['kubeletVersion'] = 'v1.33.1'),
      expected: ['info'],
    },
    {
      name: 'only machine bookkeeping changes',
      mutate: (n) => {
        n.status.nodeInfo['bootID'] = 'another-boot';
        n.metadata.annotations['volumes.kubernetes.io/controller-managed-attach-detach'] = 'false';
      },
      expected: [],
    },
    {
      name: 'labels re-ordered, same content',
      mutate: (n) =>
        void (n.metadata.labels = Object.fromEntries(Object.entries(n.metadata.labels).reverse())),
      expected: [],
    },
    {
      name: 'conditions re-ordered, same content',
      mutate: (n) => void n.status.conditions.reverse(),
      expected: [],
    },
  ];

  it.each(cases)('$name -> $expected', ({ mutate, expected }) => {
    const before = worker();
    const after = heartbeat(before);
    mutate(after);
    expect(diffNodeSnapshots(projectNode(before), projectNode(after))).toEqual(expected);
  });

  it('reports several aspects at once, in the documented order', () => {
    const before = worker();
    const after = heartbeat(before);
    after.status.nodeInfo['kubeletVersion'] = 'v1.33.0';
    after.spec.unschedulable = true;
    after.metadata.labels['x'] = 'y';
    expect(diffNodeSnapshots(projectNode(before), projectNode(after))).toEqual([
      'labels',
      'schedulable',
      'info',
    ]);
  });
});
