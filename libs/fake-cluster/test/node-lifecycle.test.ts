import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { startKubeSim, withReady, type KubeObject, type KubeSim } from '../src/index.js';
import { api, list } from './support/sim-client.js';

const sims: KubeSim[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function sim(extra: Partial<Parameters<typeof startKubeSim>[0]> = {}): Promise<KubeSim> {
  const s = await startKubeSim({ nodes: 5, pods: 10, seed: 21, ...extra });
  sims.push(s);
  return s;
}

interface Taint {
  key: string;
  effect: string;
  timeAdded?: string;
}

const worker = (s: KubeSim, i: number) =>
  s.cluster.store
    .kind('Node')
    .sorted()
    .map((n) => n.metadata.name)
    .filter((n) => n.includes('-worker-'))[i] as string;

const node = (s: KubeSim, name: string) => s.cluster.store.get('Node', name) as KubeObject;
const taintsOf = (s: KubeSim, name: string) =>
  ((node(s, name).spec?.['taints'] ?? []) as unknown as Taint[]).map((t) => `${t.key}:${t.effect}`).sort();

async function eventsOf(
  s: KubeSim,
  name: string,
): Promise<{ reason: string; message: string; source: string }[]> {
  const res = await list(
    s,
    `/api/v1/events?fieldSelector=${encodeURIComponent(`involvedObject.kind=Node,involvedObject.name=${name}`)}`,
  );
  return res.items.map((e) => {
    const event = e as unknown as { reason: string; message: string; source: { component: string } };
    return { reason: event.reason, message: event.message, source: event.source.component };
  });
}

function patchNode(s: KubeSim, name: string, spec: Record<string, unknown>) {
  return api(s, `/api/v1/nodes/${name}`, {
    method: 'PATCH',
    contentType: 'application/strategic-merge-patch+json',
    body: { spec },
  });
}

describe('node lifecycle', () => {
  it('cordon brings the unschedulable:NoSchedule taint (with timeAdded) and a NodeNotSchedulable event; uncordon takes it away', async () => {
    const s = await sim();
    const name = worker(s, 0);
    await patchNode(s, name, { unschedulable: true });
    await waitFor(() => taintsOf(s, name).includes('node.kubernetes.io/unschedulable:NoSchedule'), {
      what: 'unschedulable taint',
    });
    const taint = (node(s, name).spec?.['taints'] as unknown as Taint[]).find(
      (t) => t.key === 'node.kubernetes.io/unschedulable',
    );
    expect(taint?.timeAdded).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await patchNode(s, name, { unschedulable: null });
    await waitFor(() => node(s, name).spec?.['taints'] === undefined, { what: 'taint removed' });
    await waitFor(async () => (await eventsOf(s, name)).length === 2, { what: 'two events' });
    expect(await eventsOf(s, name)).toEqual([
      {
        reason: 'NodeNotSchedulable',
        message: `Node ${name} status is now: NodeNotSchedulable`,
        source: 'kubelet',
      },
      {
        reason: 'NodeSchedulable',
        message: `Node ${name} status is now: NodeSchedulable`,
        source: 'kubelet',
      },
    ]);
  });

  it('a NotReady node gets not-ready NoSchedule and NoExecute, and loses both when Ready again', async () => {
    const s = await sim();
    const name = worker(s, 1);
    s.cluster.write('Node', withReady(node(s, name), false, s.cluster.now()));
    await waitFor(() => taintsOf(s, name).length === 2, { what: 'not-ready taints' });
    expect(taintsOf(s, name)).toEqual([
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/not-ready:NoSchedule',
    ]);
    s.cluster.write('Node', withReady(node(s, name), true, s.cluster.now()));
    await waitFor(() => taintsOf(s, name).length === 0, { what: 'taints gone' });
    await waitFor(async () => (await eventsOf(s, name)).length === 2, { what: 'two events' });
    expect((await eventsOf(s, name)).map((e) => e.reason)).toEqual(['NodeNotReady', 'NodeReady']);
  });

  it('a kubelet cut off stops renewing its lease; after the grace period the node is Unknown with the unreachable taints; reconnected, it recovers', async () => {
    const s = await sim({
      nodeLifecycle: { leaseRenewSeconds: 0.5, monitorPeriodMs: 100, gracePeriodMs: 1_500 },
    });
    const name = worker(s, 2);
    const other = worker(s, 3);
    const renewTime = (n: string) =>
      String(s.cluster.store.get('Lease', `kube-node-lease/${n}`)?.spec?.['renewTime'] ?? '');
    const cut = await api(s, '/_sim/kubelet', { method: 'POST', body: { node: name, reachable: false } });
    expect(cut.status).toBe(200);
    const frozen = renewTime(name);
    const otherBefore = renewTime(other);
    await waitFor(
      () =>
        ((node(s, name).status?.['conditions'] ?? []) as { type: string; status: string }[]).every(
          (c) => c.status === 'Unknown',
        ),
      { timeout: 10_000, what: 'conditions Unknown' },
    );
    const ready = (
      node(s, name).status?.['conditions'] as { type: string; reason: string; message: string }[]
    ).find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
    });
    await waitFor(() => taintsOf(s, name).length === 2, { what: 'unreachable taints' });
    expect(taintsOf(s, name)).toEqual([
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
    expect(renewTime(name)).toBe(frozen);
    expect(renewTime(other) > otherBefore).toBe(true);
    expect(await eventsOf(s, name)).toContainEqual({
      reason: 'NodeNotReady',
      message: 'Node is not ready',
      source: 'node-controller',
    });
    await api(s, '/_sim/kubelet', { method: 'POST', body: { node: name, reachable: true } });
    await waitFor(() => taintsOf(s, name).length === 0, { timeout: 10_000, what: 'recovered' });
    expect(renewTime(name) > frozen).toBe(true);
  });

  it('every node has a coordination.k8s.io/v1 Lease in kube-node-lease; a new node gets one, a deleted one loses it', async () => {
    const s = await sim();
    const leases = await list(s, '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases');
    expect(leases.items.map((l) => l.metadata.name)).toEqual(
      s.cluster.store
        .kind('Node')
        .sorted()
        .map((n) => n.metadata.name),
    );
    expect(leases.items[0]?.spec).toMatchObject({ leaseDurationSeconds: 40 });
    expect(String(leases.items[0]?.spec?.['renewTime'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const created = await api(s, '/api/v1/nodes', {
      method: 'POST',
      body: { metadata: { name: 'late-node' } },
    });
    expect(created.status).toBe(201);
    await waitFor(() => s.cluster.store.get('Lease', 'kube-node-lease/late-node') !== undefined, {
      what: 'lease of the new node',
    });
    expect(await eventsOf(s, 'late-node')).toEqual([
      {
        reason: 'RegisteredNode',
        message: 'Node late-node event: Registered Node late-node in Controller',
        source: 'node-controller',
      },
    ]);
    await api(s, '/api/v1/nodes/late-node', { method: 'DELETE' });
    await waitFor(() => s.cluster.store.get('Lease', 'kube-node-lease/late-node') === undefined, {
      what: 'lease gone with its node',
    });
  });
});
