import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim, type KubeObject } from '../src/index.js';
import { api, list, StatusSchema } from './support/sim-client.js';

let sim: KubeSim;
let nodes: KubeObject[];

beforeAll(async () => {
  sim = await startKubeSim({ nodes: 12, pods: 240, seed: 3, autoRun: false });
  // Give nodes distinct labels to select on: tier a/b/c on some, none on others; one cordoned.
  const names = sim.cluster.store
    .kind('Node')
    .sorted()
    .map((n) => n.metadata.name);
  const tiers = ['a', 'b', 'c'];
  for (const [i, name] of names.entries()) {
    if (i % 4 === 3) continue;
    await api(sim, `/api/v1/nodes/${name}`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { tier: tiers[i % 3] as string } } },
    });
  }
  await api(sim, `/api/v1/nodes/${names[5]}`, {
    method: 'PATCH',
    contentType: 'application/strategic-merge-patch+json',
    body: { spec: { unschedulable: true } },
  });
  nodes = sim.cluster.store.kind('Node').sorted();
});

afterAll(async () => {
  await sim?.close();
});

async function selectNodes(selector: string): Promise<string[]> {
  const res = await list(sim, `/api/v1/nodes?labelSelector=${encodeURIComponent(selector)}`);
  return res.items.map((n) => n.metadata.name);
}

function expectNodes(pred: (labels: Record<string, string>) => boolean): string[] {
  return nodes.filter((n) => pred(n.metadata.labels ?? {})).map((n) => n.metadata.name);
}

describe('label selectors on lists', () => {
  it.each([
    ['tier=a', (l: Record<string, string>) => l['tier'] === 'a'],
    ['tier==b', (l: Record<string, string>) => l['tier'] === 'b'],
    ['tier!=a', (l: Record<string, string>) => l['tier'] !== 'a'],
    ['tier in (a,c)', (l: Record<string, string>) => l['tier'] === 'a' || l['tier'] === 'c'],
    ['tier notin (a,c)', (l: Record<string, string>) => l['tier'] !== 'a' && l['tier'] !== 'c'],
    ['tier', (l: Record<string, string>) => 'tier' in l],
    ['!tier', (l: Record<string, string>) => !('tier' in l)],
    ['tier,tier!=b', (l: Record<string, string>) => 'tier' in l && l['tier'] !== 'b'],
    [
      'node-role.kubernetes.io/control-plane,tier in (a)',
      (l: Record<string, string>) => 'node-role.kubernetes.io/control-plane' in l && l['tier'] === 'a',
    ],
  ])('%s', async (selector, pred) => {
    const expected = expectNodes(pred);
    expect(await selectNodes(selector)).toEqual(expected);
  });

  it('selects at least one and not every node in the fixture (the cases above are meaningful)', () => {
    const a = expectNodes((l) => l['tier'] === 'a');
    expect(a.length).toBeGreaterThan(0);
    expect(a.length).toBeLessThan(nodes.length);
    expect(expectNodes((l) => !('tier' in l)).length).toBeGreaterThan(0);
  });

  it('answers 400 BadRequest (full Status) for a selector that does not parse', async () => {
    const res = await api(sim, `/api/v1/nodes?labelSelector=${encodeURIComponent('tier in (a')}`);
    expect(res.status).toBe(400);
    const status = StatusSchema.parse(res.body);
    expect(status).toMatchObject({ status: 'Failure', reason: 'BadRequest', code: 400 });
    expect(status.message).toBeTruthy();
  });
});

describe('field selectors on lists', () => {
  it('metadata.name and spec.unschedulable on nodes, with =, == and !=', async () => {
    const name = nodes[2]?.metadata.name as string;
    expect(
      (await list(sim, `/api/v1/nodes?fieldSelector=metadata.name%3D${name}`)).items.map(
        (n) => n.metadata.name,
      ),
    ).toEqual([name]);
    expect((await list(sim, `/api/v1/nodes?fieldSelector=metadata.name%3D%3D${name}`)).items).toHaveLength(1);
    expect((await list(sim, `/api/v1/nodes?fieldSelector=metadata.name!%3D${name}`)).items).toHaveLength(
      nodes.length - 1,
    );
    const cordoned = (await list(sim, '/api/v1/nodes?fieldSelector=spec.unschedulable%3Dtrue')).items;
    expect(cordoned.map((n) => n.metadata.name)).toEqual([nodes[5]?.metadata.name]);
    expect((await list(sim, '/api/v1/nodes?fieldSelector=spec.unschedulable%3Dfalse')).items).toHaveLength(
      nodes.length - 1,
    );
  });

  it('spec.nodeName, status.phase and metadata.namespace on pods, comma = AND, combined with a label selector', async () => {
    const pods = sim.cluster.store.kind('Pod').sorted();
    const node = pods[10]?.spec?.['nodeName'] as string;
    const onNode = pods.filter((p) => p.spec?.['nodeName'] === node);
    const byNode = await list(sim, `/api/v1/pods?fieldSelector=spec.nodeName%3D${node}`);
    expect(byNode.items.map((p) => p.metadata.name)).toEqual(onNode.map((p) => p.metadata.name));

    const running = pods.filter((p) => p.spec?.['nodeName'] === node && p.status?.['phase'] === 'Running');
    const both = await list(
      sim,
      `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node},status.phase=Running`)}`,
    );
    expect(both.items.map((p) => p.metadata.name)).toEqual(running.map((p) => p.metadata.name));

    const notRunning = pods.filter((p) => p.status?.['phase'] !== 'Running');
    const nr = await list(sim, `/api/v1/pods?fieldSelector=${encodeURIComponent('status.phase!=Running')}`);
    expect(nr.items).toHaveLength(notRunning.length);

    const ns = pods[0]?.metadata.namespace as string;
    const inNs = await list(sim, `/api/v1/pods?fieldSelector=metadata.namespace%3D${ns}`);
    expect(inNs.items.every((p) => p.metadata.namespace === ns)).toBe(true);
    expect(inNs.items).toHaveLength(pods.filter((p) => p.metadata.namespace === ns).length);

    const label = Object.entries(onNode[0]?.metadata.labels ?? {})[0] as [string, string];
    const mixed = await list(
      sim,
      `/api/v1/pods?fieldSelector=spec.nodeName%3D${node}&labelSelector=${encodeURIComponent(`${label[0]}=${label[1]}`)}`,
    );
    expect(mixed.items.map((p) => p.metadata.name)).toEqual(
      onNode.filter((p) => p.metadata.labels?.[label[0]] === label[1]).map((p) => p.metadata.name),
    );
    // Selectors drop remainingItemCount, as the API server does.
    const paged = await list(
      sim,
      `/api/v1/pods?fieldSelector=${encodeURIComponent('status.phase=Running')}&limit=5`,
    );
    expect(paged.metadata.continue).toBeDefined();
    expect(paged.metadata.remainingItemCount).toBeUndefined();
  });

  it('answers 400 for an unsupported field, worded as the API server', async () => {
    const res = await api(sim, '/api/v1/nodes?fieldSelector=spec.podCIDR%3Dx');
    expect(res.status).toBe(400);
    expect(StatusSchema.parse(res.body)).toMatchObject({
      reason: 'BadRequest',
      code: 400,
      message: 'field label not supported: spec.podCIDR',
    });
  });
});
