import { expect } from 'vitest';
import type { KubeSim } from '../../src/index.js';
import { api } from './sim-client.js';

/** Three pods labelled app=<app> on `node` and a budget over them with minAvailable 2. */
export async function guardedApp(sim: KubeSim, app: string, node: string): Promise<void> {
  for (const i of [1, 2, 3]) {
    const res = await api(sim, '/api/v1/namespaces/default/pods', {
      method: 'POST',
      body: {
        metadata: { name: `${app}-${i}`, labels: { app } },
        spec: { nodeName: node, containers: [{ name: 'app', image: 'nginx' }] },
      },
    });
    expect(res.status).toBe(201);
  }
  const pdb = await api(sim, '/apis/policy/v1/namespaces/default/poddisruptionbudgets', {
    method: 'POST',
    body: { metadata: { name: app }, spec: { minAvailable: 2, selector: { matchLabels: { app } } } },
  });
  expect(pdb.status).toBe(201);
}
