import { afterEach, describe, expect, it } from 'vitest';
import { projectNode, type KubeNodeLike } from '@knm/contracts';
import { ManualClock, startKubeSim, TruthSchema, type KubeSim } from '../src/index.js';
import { api } from './support/sim-client.js';

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
