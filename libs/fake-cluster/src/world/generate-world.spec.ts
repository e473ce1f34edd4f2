import { describe, expect, it } from 'vitest';
import {
  dns1123SubdomainErrors,
  labelValueErrors,
  podResourceTotals,
  qualifiedNameErrors,
  quantityToBaseUnits,
} from '@knm/contracts';
import type { JsonObject, KubeObject } from '../api/kube-object.js';
import { generateWorld, JOB_NAMESPACE, type World } from './generate-world.js';
import { MAX_PODS_PER_NODE } from './node-factory.js';

const now = new Date('2026-11-22T12:00:00Z');
const options = { nodes: 60, pods: 2500, seed: 7, clusterName: 'dev', now };

const requests = (pod: KubeObject) => podResourceTotals(pod).requests;
const allocatable = (node: KubeObject, resource: string) =>
  quantityToBaseUnits(resource, (node.status?.['allocatable'] as Record<string, string>)[resource] ?? '0') ??
  0;
const owner = (pod: KubeObject) => pod.metadata.ownerReferences?.[0];
const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

describe('generateWorld', () => {
  const world = generateWorld(options);

  it('is byte-identical for the same seed and different for another seed', () => {
    expect(JSON.stringify(generateWorld(options))).toBe(JSON.stringify(world));
    const other = generateWorld({ ...options, seed: 8 });
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(world));
    expect(other.pods).toHaveLength(2500);
  });

  it('has exactly the requested nodes and pods, with 3 control planes and 10% GPU workers', () => {
    expect(world.nodes).toHaveLength(60);
    expect(world.pods).toHaveLength(2500);
    const roles = world.nodes.map((n) => n.metadata.labels ?? {});
    expect(roles.filter((l) => 'node-role.kubernetes.io/control-plane' in l)).toHaveLength(3);
    expect(roles.filter((l) => l['nvidia.com/gpu.present'] === 'true')).toHaveLength(Math.round(57 * 0.1));
  });

  it('uses unique, valid names and uids', () => {
    const all: KubeObject[] = [
      ...world.namespaces,
      ...world.nodes,
      ...world.pods,
      ...world.daemonSets,
      ...world.replicaSets,
      ...world.jobs,
    ];
    expect(new Set(all.map((o) => o.metadata.uid)).size).toBe(all.length);
    for (const list of Object.values(world) as KubeObject[][])
      expect(new Set(list.map(key)).size).toBe(list.length);
    for (const o of all) {
      expect(dns1123SubdomainErrors(o.metadata.name)).toEqual([]);
      for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
        expect(qualifiedNameErrors(k)).toEqual([]);
        expect(labelValueErrors(v)).toEqual([]);
      }
    }
    const namespaces = new Set(world.namespaces.map((n) => n.metadata.name));
    for (const p of world.pods) expect(namespaces.has(p.metadata.namespace ?? '')).toBe(true);
  });

  it('shapes nodes like a kubelet registers them', () => {
    const cp = world.nodes[0] as KubeObject;
    expect(cp.metadata.name).toBe('dev-control-plane-1');
    expect(cp.spec?.['taints']).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
    ]);
    const gpu = world.nodes.find((n) => n.metadata.name.startsWith('dev-gpu-')) as KubeObject;
    expect(gpu.spec?.['taints']).toEqual([{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]);
    expect(Number((gpu.status?.['capacity'] as JsonObject)['nvidia.com/gpu'])).toBeGreaterThan(0);
    const worker = world.nodes.find((n) => n.metadata.name === 'dev-worker-0001') as KubeObject;
    expect(worker.spec?.['taints']).toBeUndefined();
    for (const n of world.nodes) {
      const status = n.status as JsonObject;
      expect((status['conditions'] as JsonObject[]).map((c) => [c['type'], c['status']])).toEqual([
        ['MemoryPressure', 'False'],
        ['DiskPressure', 'False'],
        ['PIDPressure', 'False'],
        ['Ready', 'True'],
      ]);
      expect((status['nodeInfo'] as JsonObject)['kubeletVersion']).toMatch(/^v1\.32\.\d+$/);
      expect((status['capacity'] as JsonObject)['pods']).toBe('110');
      expect(n.metadata.labels?.['topology.kubernetes.io/zone']).toMatch(/^[a-z]+-[a-z]+-\d[abc]$/);
      expect((status['addresses'] as JsonObject[])[0]?.['type']).toBe('InternalIP');
    }
    const ips = world.nodes.map(
      (n) => ((n.status?.['addresses'] as JsonObject[])[0] as JsonObject)['address'],
    );
    expect(new Set(ips).size).toBe(ips.length);
    expect(new Set(world.nodes.map((n) => n.spec?.['podCIDR'])).size).toBe(60);
  });

  it('never exceeds a node’s pods, cpu, memory, GPU or hugepages allocatable, and fills its cpu reasonably', () => {
    const byNode = new Map<string, KubeObject[]>();
    for (const p of world.pods) {
      const node = p.spec?.['nodeName'];
      if (typeof node === 'string') byNode.set(node, [...(byNode.get(node) ?? []), p]);
    }
    const workerCpuShares: number[] = [];
    for (const n of world.nodes) {
      const pods = byNode.get(n.metadata.name) ?? [];
      expect(pods.length).toBeLessThanOrEqual(MAX_PODS_PER_NODE);
      for (const resource of ['cpu', 'memory', 'nvidia.com/gpu', 'hugepages-2Mi']) {
        const requested = pods.reduce((s, p) => s + (requests(p)[resource] ?? 0), 0);
        expect(requested, `${n.metadata.name} ${resource}`).toBeLessThanOrEqual(allocatable(n, resource));
      }
      if (n.metadata.labels?.['node.kubernetes.io/pool'] === 'general')
        workerCpuShares.push(pods.reduce((s, p) => s + (requests(p)['cpu'] ?? 0), 0) / allocatable(n, 'cpu'));
      const tainted = ((n.spec?.['taints'] as JsonObject[] | undefined) ?? []).map((t) => t['key']);
      for (const p of pods) {
        const tolerations = (p.spec?.['tolerations'] as JsonObject[] | undefined) ?? [];
        for (const taint of tainted) {
          expect(
            tolerations.some(
              (t) => t['operator'] === 'Exists' && (t['key'] === undefined || t['key'] === taint),
            ) || tolerations.some((t) => t['key'] === taint),
          ).toBe(true);
        }
      }
    }
    // What a scheduler leaves on a busy cluster: most workers between 30% and 90% of cpu requested.
    const busy = workerCpuShares.filter((share) => share >= 0.3 && share <= 0.9).length;
    expect(busy / workerCpuShares.length).toBeGreaterThan(0.7);
  });

  it('gives pods realistic resources: sidecars, init containers, limits, overhead, GPUs on GPU nodes only', () => {
    const spec = (p: KubeObject) =>
      p.spec as JsonObject & { containers: JsonObject[]; initContainers?: JsonObject[] };
    const some = (test: (p: KubeObject) => boolean) => world.pods.some(test);
    expect(some((p) => spec(p).containers.length > 1)).toBe(true);
    expect(some((p) => (spec(p).initContainers ?? []).some((c) => c['restartPolicy'] === 'Always'))).toBe(
      true,
    );
    expect(some((p) => (spec(p).initContainers ?? []).some((c) => c['restartPolicy'] === undefined))).toBe(
      true,
    );
    expect(some((p) => p.spec?.['runtimeClassName'] === 'kata' && p.spec['overhead'] !== undefined)).toBe(
      true,
    );
    expect(
      some((p) => Object.keys(requests(p)).length === 0 && p.status?.['qosClass'] === 'BestEffort'),
    ).toBe(true);
    expect(some((p) => podResourceTotals(p).limits['memory'] !== undefined)).toBe(true);
    expect(some((p) => requests(p)['ephemeral-storage'] !== undefined)).toBe(true);
    const nodes = new Map(world.nodes.map((n) => [n.metadata.name, n]));
    const gpuPods = world.pods.filter((p) => requests(p)['nvidia.com/gpu'] !== undefined);
    expect(gpuPods.length).toBeGreaterThan(0);
    for (const p of gpuPods) {
      expect(podResourceTotals(p).limits['nvidia.com/gpu']).toBe(requests(p)['nvidia.com/gpu']);
      const node = nodes.get(String(p.spec?.['nodeName'] ?? ''));
      if (node) expect(node.metadata.labels?.['nvidia.com/gpu.present']).toBe('true');
    }
    // Pods of one workload share their container list (one per workload, not one per pod).
    const byOwner = new Map<string, unknown>();
    for (const p of world.pods) {
      const uid = owner(p)?.uid;
      if (uid === undefined || owner(p)?.kind !== 'ReplicaSet') continue;
      if (byOwner.has(uid)) expect(spec(p).containers).toBe(byOwner.get(uid));
      else byOwner.set(uid, spec(p).containers);
    }
  });

  it('gives bound pods unique IPs from their node’s pod CIDR (host-network pods the node’s IP) and makes them younger than their node', () => {
    const nodes = new Map(world.nodes.map((n) => [n.metadata.name, n]));
    const ips = new Set<string>();
    for (const p of world.pods) {
      const nodeName = p.spec?.['nodeName'];
      if (typeof nodeName !== 'string') continue;
      const node = nodes.get(nodeName) as KubeObject;
      expect(Date.parse(p.metadata.creationTimestamp)).toBeGreaterThan(
        Date.parse(node.metadata.creationTimestamp),
      );
      const ip = p.status?.['podIP'];
      if (typeof ip !== 'string') continue;
      if (p.spec?.['hostNetwork'] === true) {
        expect(ip).toBe(((node.status?.['addresses'] as JsonObject[])[0] as JsonObject)['address']);
      } else {
        expect(ip.startsWith(String(node.spec?.['podCIDR']).replace(/0\/24$/, ''))).toBe(true);
        expect(ips.has(ip)).toBe(false);
        ips.add(ip);
      }
    }
    expect(ips.size).toBeGreaterThan(2000);
  });

  it('runs each DaemonSet once per node it selects, owned by a DaemonSet that exists', () => {
    expect(world.daemonSets.map(key)).toEqual([
      'kube-system/kube-proxy',
      'monitoring/fluent-bit',
      'kube-system/nvidia-device-plugin-daemonset',
    ]);
    for (const ds of world.daemonSets) {
      const pods = world.pods.filter((p) => owner(p)?.uid === ds.metadata.uid);
      expect(owner(pods[0] as KubeObject)).toMatchObject({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        name: ds.metadata.name,
        controller: true,
      });
      const nodes = pods.map((p) => p.spec?.['nodeName']);
      expect(new Set(nodes).size).toBe(nodes.length);
      expect(pods.length).toBe((ds.status as JsonObject)['desiredNumberScheduled']);
      expect(pods.every((p) => p.metadata.namespace === ds.metadata.namespace)).toBe(true);
    }
    const proxies = world.pods.filter((p) => p.metadata.labels?.['k8s-app'] === 'kube-proxy');
    expect(proxies).toHaveLength(60);
  });

  it('has mirror pods on control-plane nodes only', () => {
    const mirrors = world.pods.filter(
      (p) => p.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined,
    );
    expect(mirrors).toHaveLength(3 * 4);
    for (const m of mirrors) {
      expect(String(m.spec?.['nodeName'])).toMatch(/^dev-control-plane-\d$/);
      expect(owner(m)).toMatchObject({ kind: 'Node', name: m.spec?.['nodeName'] });
    }
  });

  it('owns app pods by ReplicaSets and job pods by Jobs, all of which exist', () => {
    const uids = new Map(
      [...world.replicaSets, ...world.jobs, ...world.daemonSets, ...world.nodes].map((o) => [
        o.metadata.uid,
        o,
      ]),
    );
    for (const p of world.pods) {
      const ref = owner(p);
      expect(ref).toBeDefined();
      const target = uids.get(ref?.uid ?? '');
      expect(target?.kind).toBe(ref?.kind);
      expect(target?.metadata.name).toBe(ref?.name);
    }
    for (const rs of world.replicaSets) {
      const pods = world.pods.filter((p) => owner(p)?.uid === rs.metadata.uid);
      expect(pods).toHaveLength(Number(rs.spec?.['replicas']));
      for (const p of pods)
        expect(p.metadata.labels?.['pod-template-hash']).toBe(rs.metadata.labels?.['pod-template-hash']);
    }
    for (const job of world.jobs) {
      const pods = world.pods.filter((p) => owner(p)?.uid === job.metadata.uid);
      expect(pods).toHaveLength(Number(job.spec?.['completions']));
      expect(pods.every((p) => p.metadata.namespace === JOB_NAMESPACE)).toBe(true);
    }
  });

  it('mixes phases: mostly Running, finished job pods, a few Pending without a node', () => {
    const count = (phase: string) => world.pods.filter((p) => p.status?.['phase'] === phase).length;
    expect(count('Running')).toBeGreaterThan(2000);
    expect(count('Succeeded')).toBeGreaterThan(0);
    expect(count('Failed')).toBeGreaterThan(0);
    const unscheduled = world.pods.filter((p) => p.spec?.['nodeName'] === undefined);
    expect(unscheduled.length).toBeGreaterThan(0);
    expect(unscheduled.every((p) => p.status?.['phase'] === 'Pending')).toBe(true);
    const finished = world.pods.filter((p) => ['Succeeded', 'Failed'].includes(String(p.status?.['phase'])));
    expect(finished.every((p) => owner(p)?.kind === 'Job')).toBe(true);
  });

  it.each<[string, Parameters<typeof generateWorld>[0], (w: World) => void]>([
    [
      'no nodes: every pod is Pending',
      { ...options, nodes: 0, pods: 30 },
      (w) => {
        expect(w.nodes).toHaveLength(0);
        expect(w.pods).toHaveLength(30);
        expect(w.pods.every((p) => p.spec?.['nodeName'] === undefined)).toBe(true);
      },
    ],
    [
      'one node: one control plane',
      { ...options, nodes: 1, pods: 10 },
      (w) => {
        expect(w.nodes.map((n) => n.metadata.name)).toEqual(['dev-control-plane-1']);
        expect(w.pods).toHaveLength(10);
      },
    ],
    [
      'no pods',
      { ...options, pods: 0 },
      (w) => {
        expect(w.pods).toHaveLength(0);
        expect(w.nodes).toHaveLength(60);
      },
    ],
    [
      'more pods than fit: the rest are Pending',
      { ...options, nodes: 3, pods: 500 },
      (w) => {
        expect(w.pods).toHaveLength(500);
        const bound = w.pods.filter((p) => p.spec?.['nodeName'] !== undefined).length;
        expect(bound).toBeLessThanOrEqual(3 * MAX_PODS_PER_NODE);
        expect(w.pods.filter((p) => p.spec?.['nodeName'] === undefined).length).toBe(500 - bound);
      },
    ],
    [
      'kubelet versions follow kubernetesMinor',
      { ...options, nodes: 2, pods: 0, kubernetesMinor: 28 },
      (w) => {
        expect(w.nodes.map((n) => (n.status?.['nodeInfo'] as JsonObject)['kubeletVersion'])).toEqual([
          'v1.28.15',
          'v1.28.15',
        ]);
      },
    ],
  ])('%s', (_name, o, check) => check(generateWorld(o)));

  it('rejects negative or fractional sizes', () => {
    expect(() => generateWorld({ ...options, nodes: -1 })).toThrow(RangeError);
    expect(() => generateWorld({ ...options, pods: 1.5 })).toThrow(RangeError);
  });
});
