import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { startKubeSim, type KubeSim } from '../src/index.js';
import { guardedApp } from './support/guarded-app.js';
import { api } from './support/sim-client.js';

const sims: KubeSim[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

interface Budget {
  metadata: { resourceVersion: string };
  status?: {
    disruptionsAllowed: number;
    currentHealthy: number;
    desiredHealthy: number;
    expectedPods: number;
    conditions: { type: string; status: string; reason: string; lastTransitionTime: string }[];
  };
}

describe('PodDisruptionBudget status (the simulated disruption controller)', () => {
  it('fills in the counts and DisruptionAllowed, and follows the pods', async () => {
    const sim = await startKubeSim({ nodes: 4, pods: 10, seed: 8, kubelet: { startupMs: 20 } });
    sims.push(sim);
    const node = sim.cluster.store.kind('Node').sorted()[3]?.metadata.name as string;
    await guardedApp(sim, 'guarded', node);
    const read = async () =>
      (await api<Budget>(sim, '/apis/policy/v1/namespaces/default/poddisruptionbudgets/guarded')).body;
    const ready = await waitFor(
      async () => {
        const b = await read();
        return b.status?.currentHealthy === 3 ? b : undefined;
      },
      { what: 'three healthy pods counted' },
    );
    expect(ready.status).toMatchObject({ disruptionsAllowed: 1, desiredHealthy: 2, expectedPods: 3 });
    expect(ready.status?.conditions).toEqual([
      expect.objectContaining({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' }),
    ]);

    const evicted = await api(sim, '/api/v1/namespaces/default/pods/guarded-1/eviction', {
      method: 'POST',
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'guarded-1' } },
    });
    expect(evicted.status).toBe(201);
    const blocked = await waitFor(
      async () => {
        const b = await read();
        return b.status?.disruptionsAllowed === 0 ? b : undefined;
      },
      { what: 'no disruption allowed after the eviction' },
    );
    expect(blocked.status).toMatchObject({ currentHealthy: 2, desiredHealthy: 2 });
    expect(blocked.status?.conditions[0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
    // A second eviction is refused: the status and the eviction verdict agree.
    const refused = await api(sim, '/api/v1/namespaces/default/pods/guarded-2/eviction', {
      method: 'POST',
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'guarded-2' } },
    });
    expect(refused.status).toBe(429);
  });

  it('prints MIN AVAILABLE, MAX UNAVAILABLE, ALLOWED DISRUPTIONS in a Table', async () => {
    const sim = await startKubeSim({ nodes: 4, pods: 10, seed: 8, kubelet: { startupMs: 20 } });
    sims.push(sim);
    const node = sim.cluster.store.kind('Node').sorted()[3]?.metadata.name as string;
    await guardedApp(sim, 'shown', node);
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const table = await waitFor(
      async () => {
        const t = (
          await api<{ columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }>(
            sim,
            '/apis/policy/v1/namespaces/default/poddisruptionbudgets',
            { accept },
          )
        ).body;
        return t.rows[0]?.cells[3] === 1 ? t : undefined;
      },
      { what: 'one allowed disruption in the table' },
    );
    expect(table.columnDefinitions.map((c) => c.name)).toEqual([
      'Name',
      'Min Available',
      'Max Unavailable',
      'Allowed Disruptions',
      'Age',
    ]);
    expect(table.rows[0]?.cells.slice(0, 4)).toEqual(['shown', '2', 'N/A', 1]);
  });
});
