import { afterAll, describe, expect, it } from 'vitest';
import { quantityToBaseUnits } from '@knm/contracts';
import { ManualClock, startKubeSim, TruthSchema, type KubeSim } from '../src/index.js';
import { installedKubectls, Kubectl } from './support/kubectl.js';
import { expectTopAgreesWithMetrics } from './support/kubectl-top.js';
import {
  bytes,
  MI,
  nanocores,
  podCpu,
  podMemory,
  type MetricsList,
  type NodeMetrics,
  type PodMetrics,
} from './support/metrics-usage.js';
import { api, list } from './support/sim-client.js';

const sims: KubeSim[] = [];
const kubectls: Kubectl[] = [];
afterAll(async () => {
  for (const k of kubectls.splice(0)) k.dispose();
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const START = Date.UTC(2026, 5, 1, 12, 0, 0);

async function manualSim(options: { seed: number; metrics?: boolean }) {
  const clock = new ManualClock(START);
  const sim = await startKubeSim({
    nodes: 12,
    pods: 200,
    clock,
    autoRun: false,
    metricsResolutionSeconds: 1,
    kubelet: { startupMs: 100, stopMs: 100 },
    ...options,
  });
  sims.push(sim);
  const run = (ms: number) => {
    for (let t = 0; t < ms; t += 50) {
      clock.advance(50);
      sim.advance();
    }
  };
  return { sim, run };
}

async function get<T>(sim: KubeSim, path: string): Promise<T> {
  const res = await api<T>(sim, path);
  expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
}

describe('metrics.k8s.io/v1beta1', () => {
  it('is discovered as metrics-server registers it: nodes and pods, get and list', async () => {
    const { sim } = await manualSim({ seed: 3 });
    const groups = await get<{ groups: { name: string; preferredVersion: unknown }[] }>(sim, '/apis');
    expect(groups.groups.find((g) => g.name === 'metrics.k8s.io')).toEqual({
      name: 'metrics.k8s.io',
      versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }],
      preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' },
    });
    expect(await get(sim, '/apis/metrics.k8s.io/v1beta1')).toEqual({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: 'metrics.k8s.io/v1beta1',
      resources: [
        { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
        { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
      ],
    });
  });

  it('serves node and pod metrics consistent with the truth: node = its pods + a system share', async () => {
    const { sim } = await manualSim({ seed: 4 });
    const nodes = await get<MetricsList<NodeMetrics>>(sim, '/apis/metrics.k8s.io/v1beta1/nodes');
    expect(nodes).toMatchObject({
      kind: 'NodeMetricsList',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: {},
    });
    expect(nodes.items.map((n) => n.metadata.name)).toEqual(
      sim.cluster.store
        .kind('Node')
        .sorted()
        .map((n) => n.metadata.name),
    );
    const truth = TruthSchema.parse((await api(sim, '/_sim/truth')).body);
    expect(truth.usage).not.toBeNull();
    for (const n of nodes.items) {
      expect(n).toMatchObject({ kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', window: '1s' });
      expect(n.timestamp).toBe(truth.usage?.timestamp);
      expect(n.metadata.labels).toEqual(sim.cluster.store.get('Node', n.metadata.name)?.metadata.labels);
      expect(n.usage.cpu).toMatch(/^\d+[num]?$/);
      expect(n.usage.memory).toMatch(/^\d+(Ki|Mi|Gi)?$/);
      expect(truth.usage?.nodes[n.metadata.name]).toEqual({
        cpu: nanocores(n.usage.cpu) / 1e6,
        memory: bytes(n.usage.memory),
      });
    }

    const pods = await get<MetricsList<PodMetrics>>(sim, '/apis/metrics.k8s.io/v1beta1/pods');
    const running = (await list(sim, '/api/v1/pods')).items.filter((p) => p.status?.['phase'] === 'Running');
    expect(pods.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(
      running.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    );
    const nodeOf = new Map(
      running.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, String(p.spec?.['nodeName'])]),
    );
    const fromPods = new Map<string, { cpu: number; memory: number }>();
    for (const p of pods.items) {
      expect(p).toMatchObject({ kind: 'PodMetrics', window: '1s', timestamp: truth.usage?.timestamp });
      expect(p.containers.length).toBeGreaterThan(0);
      const node = nodeOf.get(`${p.metadata.namespace}/${p.metadata.name}`) as string;
      const sum = fromPods.get(node) ?? { cpu: 0, memory: 0 };
      sum.cpu += podCpu(p);
      sum.memory += podMemory(p);
      fromPods.set(node, sum);
    }
    for (const n of nodes.items) {
      const pods = fromPods.get(n.metadata.name) ?? { cpu: 0, memory: 0 };
      const systemCpuMilli = (nanocores(n.usage.cpu) - pods.cpu) / 1e6;
      const systemMemoryMi = (bytes(n.usage.memory) - pods.memory) / MI;
      expect(systemCpuMilli).toBeGreaterThanOrEqual(60);
      expect(systemCpuMilli).toBeLessThanOrEqual(330);
      expect(systemMemoryMi).toBeGreaterThanOrEqual(560);
      expect(systemMemoryMi).toBeLessThanOrEqual(1600);
    }
  });

  it('follows the pods’ requests, with noise', async () => {
    const { sim } = await manualSim({ seed: 5 });
    const pods = await get<MetricsList<PodMetrics>>(sim, '/apis/metrics.k8s.io/v1beta1/pods');
    let requested = 0;
    let used = 0;
    for (const p of pods.items) {
      const pod = sim.cluster.store.get('Pod', `${p.metadata.namespace}/${p.metadata.name}`);
      const containers = (pod?.spec?.['containers'] ?? []) as {
        resources?: { requests?: { cpu?: string } };
      }[];
      const cpu = containers.reduce(
        (s, c) => s + (quantityToBaseUnits('cpu', c.resources?.requests?.cpu ?? '0') ?? 0),
        0,
      );
      if (cpu === 0 || containers.length !== p.containers.length) continue;
      requested += cpu;
      used += podCpu(p) / 1e6;
    }
    expect(requested).toBeGreaterThan(0);
    expect(used / requested).toBeGreaterThan(0.3);
    expect(used / requested).toBeLessThan(1.2);
  });

  it('filters by label selector and namespace, gets one object, 404s and refuses watch as metrics-server does', async () => {
    const { sim } = await manualSim({ seed: 6 });
    const gpuNodes = await get<MetricsList<NodeMetrics>>(
      sim,
      '/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=node.kubernetes.io%2Fpool%3Dgpu',
    );
    expect(gpuNodes.items.length).toBeGreaterThan(0);
    for (const n of gpuNodes.items) expect(n.metadata.labels?.['nvidia.com/gpu.present']).toBe('true');
    const proxies = await get<MetricsList<PodMetrics>>(
      sim,
      '/apis/metrics.k8s.io/v1beta1/pods?labelSelector=k8s-app%3Dkube-proxy',
    );
    expect(proxies.items.length).toBeGreaterThan(0);
    for (const p of proxies.items)
      expect(p.metadata).toMatchObject({ namespace: 'kube-system', labels: { 'k8s-app': 'kube-proxy' } });
    const system = await get<MetricsList<PodMetrics>>(
      sim,
      '/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods',
    );
    expect(system.items.length).toBeGreaterThanOrEqual(proxies.items.length);
    expect(new Set(system.items.map((p) => p.metadata.namespace))).toEqual(new Set(['kube-system']));

    const one = system.items[0] as PodMetrics;
    expect(
      await get(sim, `/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods/${one.metadata.name}`),
    ).toEqual(one);
    const node = gpuNodes.items[0] as NodeMetrics;
    expect(await get(sim, `/apis/metrics.k8s.io/v1beta1/nodes/${node.metadata.name}`)).toEqual(node);

    const missingNode = await api<{ reason: string; message: string }>(
      sim,
      '/apis/metrics.k8s.io/v1beta1/nodes/nope',
    );
    expect(missingNode.status).toBe(404);
    expect(missingNode.body).toMatchObject({ reason: 'NotFound', message: 'node "nope" not found' });
    const pending = (await list(sim, '/api/v1/pods')).items.find((p) => p.status?.['phase'] !== 'Running');
    if (pending) {
      const res = await api<{ message: string }>(
        sim,
        `/apis/metrics.k8s.io/v1beta1/namespaces/${pending.metadata.namespace}/pods/${pending.metadata.name}`,
      );
      expect(res.status).toBe(404);
      expect(res.body.message).toBe(`pods.metrics.k8s.io "${pending.metadata.name}" not found`);
    }
    const watch = await api<{ reason: string; message: string }>(
      sim,
      '/apis/metrics.k8s.io/v1beta1/nodes?watch=true',
    );
    expect(watch.status).toBe(405);
    expect(watch.body).toMatchObject({
      reason: 'MethodNotAllowed',
      message: 'watch is not supported on resources of kind "nodes.metrics.k8s.io"',
    });
    expect((await api(sim, '/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=a%20%3D%3D%3D')).status).toBe(
      400,
    );
  });

  it('takes a new snapshot every resolution, not in between, deterministic from the seed', async () => {
    const a = await manualSim({ seed: 7 });
    const b = await manualSim({ seed: 7 });
    const first = await get<MetricsList<NodeMetrics>>(a.sim, '/apis/metrics.k8s.io/v1beta1/nodes');
    a.run(500);
    expect(await get(a.sim, '/apis/metrics.k8s.io/v1beta1/nodes')).toMatchObject({
      items: first.items.map((n) => ({ usage: n.usage, timestamp: n.timestamp })),
    });
    a.run(600);
    const second = await get<MetricsList<NodeMetrics>>(a.sim, '/apis/metrics.k8s.io/v1beta1/nodes');
    expect(Date.parse(second.items[0]?.timestamp ?? '')).toBe(START + 1000);
    expect(second.items.map((n) => n.usage)).not.toEqual(first.items.map((n) => n.usage));
    const truth = a.sim.truth();
    for (const n of second.items)
      expect(truth.usage?.nodes[n.metadata.name]?.cpu).toBe(nanocores(n.usage.cpu) / 1e6);

    b.run(1100);
    expect(
      (await get<MetricsList<NodeMetrics>>(b.sim, '/apis/metrics.k8s.io/v1beta1/nodes')).items.map(
        (n) => n.usage,
      ),
    ).toEqual(second.items.map((n) => n.usage));
  });

  it('is absent with metrics: false, as on a cluster without metrics-server', async () => {
    const { sim } = await manualSim({ seed: 8, metrics: false });
    const groups = await get<{ groups: { name: string }[] }>(sim, '/apis');
    expect(groups.groups.map((g) => g.name)).not.toContain('metrics.k8s.io');
    expect((await api(sim, '/apis/metrics.k8s.io/v1beta1')).status).toBe(404);
    expect((await api(sim, '/apis/metrics.k8s.io/v1beta1/nodes')).status).toBe(404);
    expect((await api(sim, '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods')).status).toBe(404);
    expect(sim.truth().usage).toBeNull();
  });
});

const versions = installedKubectls();
// The default kubectl and the oldest one installed.
const binaries = [
  { label: 'default', path: 'kubectl', minor: undefined },
  ...versions.slice(0, 1).map((v) => ({ label: `1.${v.minor}`, path: v.path, minor: v.minor })),
];

describe.concurrent('kubectl top against kube-sim', { timeout: 60_000 }, () => {
  it.each(binaries)(
    'kubectl $label: top node and top pod -A agree with the truth and the metrics',
    async (binary) => {
      const sim = await startKubeSim({
        nodes: 8,
        pods: 60,
        seed: 50,
        clock: new ManualClock(START),
        autoRun: false,
        ...(binary.minor !== undefined ? { kubernetesMinor: binary.minor } : {}),
      });
      sims.push(sim);
      const kubectl = new Kubectl(sim.kubeconfig(), binary.path);
      kubectls.push(kubectl);
      await expectTopAgreesWithMetrics(sim, kubectl);
    },
  );

  it('kubectl top node says the Metrics API is not available with metrics: false', async () => {
    const sim = await startKubeSim({
      nodes: 3,
      pods: 10,
      seed: 51,
      metrics: false,
      autoRun: false,
      clock: new ManualClock(START),
    });
    sims.push(sim);
    const kubectl = new Kubectl(sim.kubeconfig());
    kubectls.push(kubectl);
    const result = await kubectl.run(['top', 'node']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Metrics API not available/);
  });
});
