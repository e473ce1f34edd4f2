import { afterEach, describe, expect, it } from 'vitest';
import { podResourceTotals, projectNode, quantityToBaseUnits, type KubeNodeLike } from '@knm/contracts';
import { ManualClock, startKubeSim, TruthSchema, type KubeSim } from '../src/index.js';
import { api, list } from './support/sim-client.js';

const sims: KubeSim[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

describe('/_sim/truth node resourceVersions', () => {
  it('carry the version of the last change that altered the projection, not the heartbeats after it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const sim = await startKubeSim({
      nodes: 8,
      pods: 40,
      seed: 21,
      clock,
      autoRun: false,
      heartbeatSeconds: 1,
    });
    sims.push(sim);
    const store = sim.cluster.store;
    const names = store
      .kind('Node')
      .sorted()
      .map((n) => n.metadata.name);
    const loaded = sim.truth();
    const run = (ms: number) => {
      for (let t = 0; t < ms; t += 50) {
        clock.advance(50);
        sim.advance();
      }
    };

    run(3_000); // three heartbeats per node, nothing else
    expect(sim.heartbeats.beats).toBeGreaterThanOrEqual(3 * names.length);
    const afterBeats = sim.truth();
    expect(Number(afterBeats.resourceVersion)).toBeGreaterThanOrEqual(Number(loaded.resourceVersion) + 24);
    expect(afterBeats.nodes).toEqual(loaded.nodes);
    for (const name of names) {
      const stored = store.get('Node', name);
      expect(stored?.metadata.resourceVersion).not.toBe(loaded.nodes[name]?.resourceVersion);
      // Everything but the version is the projection of the object as stored now.
      expect({ ...afterBeats.nodes[name], resourceVersion: '' }).toEqual({
        ...projectNode(stored as KubeNodeLike),
        resourceVersion: '',
      });
    }

    const target = names[2] as string;
    const res = await api<{ metadata: { resourceVersion: string } }>(sim, `/api/v1/nodes/${target}`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { 'truth.test/changed': 'yes' } } },
    });
    expect(res.status).toBe(200);
    const labelledRv = res.body.metadata.resourceVersion;
    run(2_000);
    const truth = TruthSchema.parse((await api(sim, '/_sim/truth')).body);
    expect(truth.resourceVersion).toBe(String(store.resourceVersion));
    expect(truth.nodes[target]?.resourceVersion).toBe(labelledRv);
    expect(truth.nodes[target]?.labels['truth.test/changed']).toBe('yes');
    expect(store.get('Node', target)?.metadata.resourceVersion).not.toBe(labelledRv);
    for (const name of names.filter((n) => n !== target))
      expect(truth.nodes[name]).toEqual(loaded.nodes[name]);
    // A copy: changing what truth() returned does not change the next one.
    const local = sim.truth();
    expect(local).toEqual(truth);
    (local.nodes[target] as { labels: Record<string, string> }).labels['x'] = 'y';
    const again = sim.truth();
    expect(again.nodes[target]?.labels['x']).toBeUndefined();
  });
});

describe('/_sim/truth allocation', () => {
  it('equals a recount of the listed pods’ effective requests and limits after churn', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const sim = await startKubeSim({
      nodes: 15,
      pods: 300,
      seed: 31,
      clock,
      autoRun: false,
      kubelet: { startupMs: 200, stopMs: 400 },
      jobRunMs: [1_000, 4_000],
    });
    sims.push(sim);
    const initial = sim.truth().allocation;
    sim.churn.setRate(80);
    for (let t = 0; t < 10_000; t += 50) {
      clock.advance(50);
      sim.advance();
    }
    expect(sim.churn.events).toBe(800);
    const truth = TruthSchema.parse((await api(sim, '/_sim/truth')).body);
    const recount: Record<string, { requests: Record<string, number>; limits: Record<string, number> }> = {};
    for (const pod of (await list(sim, '/api/v1/pods')).items) {
      const node = pod.spec?.['nodeName'];
      const phase = pod.status?.['phase'];
      if (typeof node !== 'string' || node === '' || phase === 'Succeeded' || phase === 'Failed') continue;
      const sums = (recount[node] ??= { requests: {}, limits: {} });
      const totals = podResourceTotals(pod);
      for (const [name, v] of Object.entries(totals.requests))
        sums.requests[name] = (sums.requests[name] ?? 0) + v;
      for (const [name, v] of Object.entries(totals.limits)) sums.limits[name] = (sums.limits[name] ?? 0) + v;
    }
    // Nodes whose pods ask for nothing (BestEffort) have no entry.
    const nonEmpty = Object.fromEntries(
      Object.entries(recount).filter(
        ([, a]) => Object.keys(a.requests).length + Object.keys(a.limits).length > 0,
      ),
    );
    expect(truth.allocation).toEqual(nonEmpty);
    expect(truth.allocation).not.toEqual(initial);
    // The simulated scheduler, like the real one, binds a pod only where its requests fit.
    for (const node of (await list(sim, '/api/v1/nodes')).items) {
      const allocatable = (node.status?.['allocatable'] ?? {}) as Record<string, string>;
      for (const [resource, requested] of Object.entries(
        truth.allocation[node.metadata.name]?.requests ?? {},
      ))
        expect(requested, `${node.metadata.name} ${resource}`).toBeLessThanOrEqual(
          quantityToBaseUnits(resource, allocatable[resource] ?? '0') ?? 0,
        );
    }
    // The world's pods ask for every kind of resource (churn may remove the GPU nodes).
    const requested = new Set(Object.values(initial).flatMap((a) => Object.keys(a.requests)));
    expect([...requested]).toEqual(expect.arrayContaining(['cpu', 'memory', 'nvidia.com/gpu']));
  });
});
