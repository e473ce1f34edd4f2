import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, startKubeSim, TruthSchema, type KubeSim, type Truth } from '../src/index.js';
import { api, openWatch, type OpenWatch } from './support/sim-client.js';
import { waitFor } from '@knm/testing';

const sims: KubeSim[] = [];
const watches: OpenWatch[] = [];
afterEach(async () => {
  for (const w of watches.splice(0)) w.close();
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

const START = Date.UTC(2026, 5, 1, 12, 0, 0);

async function manualSim(seed: number, clock = new ManualClock(START)) {
  const sim = await startKubeSim({
    nodes: 20,
    pods: 400,
    seed,
    clock,
    autoRun: false,
    kubelet: { startupMs: 300, stopMs: 800 },
    jobRunMs: [1_000, 5_000],
  });
  sims.push(sim);
  return { sim, clock };
}

/** Runs `seconds` of simulated time in 50 ms steps, with one API write at the midpoint. */
async function script(sim: KubeSim, clock: ManualClock, seconds: number): Promise<Truth> {
  const steps = (seconds * 1000) / 50;
  for (let i = 0; i < steps; i++) {
    if (i === steps / 2) {
      const node = sim.cluster.store.kind('Node').sorted()[0]?.metadata.name as string; // a control plane: churn never removes it
      const res = await api(sim, `/api/v1/nodes/${node}`, {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: { metadata: { labels: { scripted: 'yes' } } },
      });
      expect(res.status).toBe(200);
    }
    clock.advance(50);
    sim.advance();
  }
  return TruthSchema.parse((await api(sim, '/_sim/truth')).body);
}

describe('churn determinism', () => {
  it('the same seed and the same actions give the same truth; another seed does not', async () => {
    const a = await manualSim(99);
    const b = await manualSim(99);
    const c = await manualSim(100);
    for (const { sim } of [a, b, c]) sim.churn.setRate(40);
    const initial = a.sim.truth();
    const [ta, tb, tc] = [
      await script(a.sim, a.clock, 20),
      await script(b.sim, b.clock, 20),
      await script(c.sim, c.clock, 20),
    ];
    expect(a.sim.churn.events).toBe(800);
    expect(ta).toEqual(tb);
    expect(a.sim.cluster.store.resourceVersion).toBe(b.sim.cluster.store.resourceVersion);
    expect(ta).not.toEqual(tc);
    // Churn really changed the cluster: pods moved, nodes came and went or flapped.
    expect(ta.podCounts).not.toEqual(initial.podCounts);
    expect(Number(ta.resourceVersion) - Number(initial.resourceVersion)).toBeGreaterThan(800);
    expect(Object.values(ta.nodes).some((n) => n.labels['scripted'] === 'yes')).toBe(true);
  });

  it('keeps the pod counts of the truth equal to a recount of the pods after churn', async () => {
    const { sim, clock } = await manualSim(5);
    sim.churn.setRate(100);
    const truth = await script(sim, clock, 10);
    const recount: Record<string, number> = {};
    for (const pod of sim.cluster.store.kind('Pod').values()) {
      const nodeName = pod.spec?.['nodeName'];
      const phase = pod.status?.['phase'];
      if (typeof nodeName !== 'string' || !nodeName || phase === 'Succeeded' || phase === 'Failed') continue;
      recount[nodeName] = (recount[nodeName] ?? 0) + 1;
    }
    expect(truth.podCounts).toEqual(recount);
    const phases = new Set(
      [...sim.cluster.store.kind('Pod').values()].map((p) => String(p.status?.['phase'])),
    );
    expect(phases.has('Running')).toBe(true);
    expect(sim.churn.events).toBe(1000);
  });

  it('keeps the pod and node populations near their starting size over long churn', async () => {
    const { sim, clock } = await manualSim(12);
    const pods = sim.cluster.store.kind('Pod').size;
    const nodes = sim.cluster.store.kind('Node').size;
    sim.churn.setRate(100);
    for (let i = 0; i < 200; i++) {
      clock.advance(1_000);
      sim.advance();
    }
    expect(sim.churn.events).toBe(20_000);
    expect(Math.abs(sim.cluster.store.kind('Pod').size - pods)).toBeLessThanOrEqual(pods * 0.03);
    expect(Math.abs(sim.cluster.store.kind('Node').size - nodes)).toBeLessThanOrEqual(2);
  });

  it('POST /_sim/churn and /_sim/step drive churn; /_sim/pause stops all change until /_sim/resume', async () => {
    const { sim, clock } = await manualSim(8);
    expect((await api(sim, '/_sim/churn', { method: 'POST', body: { rate: 20 } })).status).toBe(200);
    expect(sim.churn.rate).toBe(20);
    const bad = await api(sim, '/_sim/churn', { method: 'POST', body: { rate: -1 } });
    expect(bad.status).toBe(400);
    const rv0 = sim.cluster.store.resourceVersion;
    expect((await api(sim, '/_sim/pause', { method: 'POST' })).status).toBe(200);
    clock.advance(5_000);
    sim.advance();
    expect(sim.cluster.store.resourceVersion).toBe(rv0);
    await api(sim, '/_sim/resume', { method: 'POST' });
    clock.advance(1_000);
    sim.advance();
    expect(sim.cluster.store.resourceVersion).toBeGreaterThan(rv0);
    const events = sim.churn.events;
    const step = await api<{ events: number }>(sim, '/_sim/step', { method: 'POST', body: { events: 25 } });
    expect(step.body.events).toBe(25);
    expect(sim.churn.events).toBe(events + 25);
  });
});

describe('heartbeats', () => {
  it('refresh every node once per interval, spread over it, without changing any projection', async () => {
    const { sim, clock } = await manualSim(3);
    const before = sim.truth();
    const rv = sim.cluster.store.resourceVersion;
    const w = await openWatch(sim, `/api/v1/nodes?watch=true&resourceVersion=${rv}`);
    watches.push(w);
    sim.heartbeats.setInterval(2);
    const seenAt: number[] = [];
    for (let t = 0; t < 2_000; t += 50) {
      clock.advance(50);
      const n = sim.heartbeats.beats;
      sim.advance();
      if (sim.heartbeats.beats > n) seenAt.push(t);
    }
    expect(sim.heartbeats.beats).toBe(20);
    expect(seenAt.length).toBeGreaterThan(10); // spread, not one burst
    await waitFor(() => w.events.length >= 20, { what: '20 MODIFIED events' });
    expect(w.events.every((e) => e.type === 'MODIFIED')).toBe(true);
    expect(new Set(w.events.map((e) => e.object.metadata.name)).size).toBe(20);
    const after = sim.truth();
    const strip = (t: Truth) =>
      Object.fromEntries(Object.entries(t.nodes).map(([k, v]) => [k, { ...v, resourceVersion: '' }]));
    expect(strip(after)).toEqual(strip(before));
    const beat = w.events[0]?.object as unknown as {
      status: { conditions: { lastHeartbeatTime: string }[] };
    };
    expect(
      beat.status.conditions.every((c) => {
        const at = Date.parse(c.lastHeartbeatTime);
        return at >= START && at <= START + 2_000;
      }),
    ).toBe(true);
  });
});
