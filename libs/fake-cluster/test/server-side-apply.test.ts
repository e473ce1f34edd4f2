import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeObject, type KubeSim } from '../src/index.js';
import { api, StatusSchema } from './support/sim-client.js';

let sim: KubeSim;
beforeAll(async () => {
  sim = await startKubeSim({ nodes: 3, pods: 0, seed: 9, autoRun: false });
});
afterAll(async () => {
  await sim?.close();
});

const APPLY = 'application/apply-patch+yaml';

function apply(name: string, config: object, query: string) {
  return api<KubeObject>(sim, `/api/v1/nodes/${name}?${query}`, {
    method: 'PATCH',
    contentType: APPLY,
    body: { apiVersion: 'v1', kind: 'Node', metadata: { name }, ...config },
  });
}

function managers(object: KubeObject): { manager: string; operation: string; fieldsV1: unknown }[] {
  return (object.metadata['managedFields'] ?? []) as unknown as {
    manager: string;
    operation: string;
    fieldsV1: unknown;
  }[];
}

describe('server-side apply of nodes', () => {
  it('creates, tracks owners, refuses a conflicting change naming the field, takes it over with force, and drops what was un-applied', async () => {
    const created = await apply(
      'applied-node',
      { metadata: { name: 'applied-node', labels: { team: 'infra' } } },
      'fieldManager=ops',
    );
    expect(created.status).toBe(201);
    expect(managers(created.body)).toEqual([
      expect.objectContaining({
        manager: 'ops',
        operation: 'Apply',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:team': {} } } },
      }),
    ]);

    const labelled = await api<KubeObject>(sim, '/api/v1/nodes/applied-node?fieldManager=kubectl-label', {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { env: 'prod' } } },
    });
    expect(managers(labelled.body).map((m) => [m.manager, m.operation])).toEqual([
      ['ops', 'Apply'],
      ['kubectl-label', 'Update'],
    ]);

    const config = {
      metadata: { name: 'applied-node', labels: { team: 'infra', env: 'staging' } },
      spec: { taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }] },
    };
    const refused = await apply('applied-node', config, 'fieldManager=ops');
    expect(refused.status).toBe(409);
    const status = StatusSchema.parse(refused.body);
    expect(status.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-label" using v1: .metadata.labels.env',
    );
    expect(status.details?.causes).toEqual([
      {
        reason: 'FieldManagerConflict',
        message: 'conflict with "kubectl-label" using v1',
        field: '.metadata.labels.env',
      },
    ]);

    const forced = await apply('applied-node', config, 'fieldManager=ops&force=true');
    expect(forced.status).toBe(200);
    expect(forced.body.metadata.labels).toMatchObject({ env: 'staging', team: 'infra' });
    expect(forced.body.spec?.['taints']).toEqual(config.spec.taints);
    expect(managers(forced.body).map((m) => m.manager)).toEqual(['ops']);

    const again = await apply('applied-node', config, 'fieldManager=ops');
    expect(again.body.metadata.resourceVersion).toBe(forced.body.metadata.resourceVersion);

    const trimmed = await apply(
      'applied-node',
      { metadata: { name: 'applied-node', labels: { env: 'staging' } } },
      'fieldManager=ops',
    );
    expect(trimmed.body.metadata.labels).not.toHaveProperty('team');
    expect(trimmed.body.spec).not.toHaveProperty('taints');
  });

  it('requires a fieldManager (422), applies nodes only (415 otherwise), and checks the configuration', async () => {
    const name = sim.cluster.store.kind('Node').sorted()[0]?.metadata.name as string;
    const missing = await apply(name, {}, '');
    expect(missing.status).toBe(422);
    expect(StatusSchema.parse(missing.body).message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    const pod = await api(sim, '/api/v1/namespaces/default/pods/x?fieldManager=a', {
      method: 'PATCH',
      contentType: APPLY,
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } },
    });
    expect(pod.status).toBe(415);
    const wrongName = await api(sim, `/api/v1/nodes/${name}?fieldManager=a`, {
      method: 'PATCH',
      contentType: APPLY,
      body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'other' } },
    });
    expect(wrongName.status).toBe(400);
  });
});
