import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { startKubeSim, type KubeSim } from '../src/index.js';
import { api } from './support/sim-client.js';

const sims: KubeSim[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

interface Stats {
  churnEvents: number;
  churnDropped: number;
}

describe('churn above what the simulation can produce', { timeout: 60_000 }, () => {
  it('keeps answering requests, drops the events it cannot run, and closes', async () => {
    // Wall clock, own timer: the way kube-sim runs as a process. Ten million events
    // per second is far beyond any machine, so churn falls behind at once.
    const sim = await startKubeSim({ nodes: 30, pods: 900, seed: 3 });
    sims.push(sim);
    sim.churn.setRate(10_000_000);

    // Every request below needs the event loop: a simulation that tried to catch up
    // with its backlog in one burst would never let them through (the test times out).
    const stats = await waitFor(
      async () => {
        const s = await api<Stats>(sim, '/_sim/stats');
        return s.body.churnDropped > 0 && s.body.churnEvents > 0 ? s.body : undefined;
      },
      { timeout: 30_000, what: 'churn events run and dropped' },
    );
    // The rate achieved, not the backlog: far more events were dropped than run.
    expect(stats.churnDropped).toBeGreaterThan(stats.churnEvents);
    const nodes = await api<{ items: unknown[] }>(sim, '/api/v1/nodes?limit=1');
    expect(nodes.status).toBe(200);
    expect(nodes.body.items).toHaveLength(1);

    await sim.close();
    const after = sim.churn.events;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sim.churn.events).toBe(after);
  });
});
