/**
 * kube-sim's RBAC and impersonation over HTTP: ClusterRoles and ClusterRoleBindings
 * created through the API; requests with `Impersonate-User` / `Impersonate-Group`
 * allowed or refused by them with the API server's 403 Status, for node patches, pod
 * lists and evictions; requests without impersonation (kube-sim's own
 * `system:masters` credential) unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from '../src/index.js';
import { StatusSchema } from './support/sim-client.js';

let sim: KubeSim;
let node: string;
let pod: { name: string; namespace: string };

beforeAll(async () => {
  sim = await startKubeSim({ nodes: 3, pods: 6, seed: 3, kubelet: { startupMs: 50, stopMs: 100 } });
  node = sim.cluster.store.kind('Node').sorted()[0]?.metadata.name as string;
  const first = sim.cluster.store.kind('Pod').sorted()[0];
  pod = { name: first?.metadata.name as string, namespace: first?.metadata.namespace as string };
});

afterAll(async () => {
  await sim?.close();
});

async function call(
  path: string,
  init: {
    method?: string;
    body?: unknown;
    contentType?: string;
    as?: { user: string; groups?: string[] };
  } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers = new Headers({ authorization: `Bearer ${sim.token}`, accept: 'application/json' });
  if (init.body !== undefined) headers.set('content-type', init.contentType ?? 'application/json');
  if (init.as) {
    headers.set('impersonate-user', init.as.user);
    for (const group of init.as.groups ?? []) headers.append('impersonate-group', group);
  }
  const response = await fetch(`${sim.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const cordon = { spec: { unschedulable: true } };

describe('kube-sim RBAC and impersonation', () => {
  it('creates, lists, gets and deletes ClusterRoles and bindings through its API, refusing bad ones', async () => {
    const role = await call(`${RBAC}/clusterroles`, {
      method: 'POST',
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'node-reader' },
        rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    expect(role.status).toBe(201);
    expect(role.body).toMatchObject({ kind: 'ClusterRole', metadata: { name: 'node-reader' } });
    expect((await call(`${RBAC}/clusterroles/node-reader`)).status).toBe(200);
    const list = await call(`${RBAC}/clusterroles`);
    expect((list.body['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toContain(
      'node-reader',
    );
    const again = await call(`${RBAC}/clusterroles`, {
      method: 'POST',
      body: { metadata: { name: 'node-reader' }, rules: [] },
    });
    expect(again.status).toBe(409);
    const bad = await call(`${RBAC}/clusterrolebindings`, {
      method: 'POST',
      body: {
        metadata: { name: 'b' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'x' },
      },
    });
    expect(bad.status).toBe(422);
    expect(StatusSchema.parse(bad.body).message).toMatch(
      /ClusterRoleBinding.rbac.authorization.k8s.io "b" is invalid: roleRef.kind/,
    );
    expect((await call(`${RBAC}/clusterroles/node-reader`, { method: 'DELETE' })).status).toBe(200);
    expect((await call(`${RBAC}/clusterroles/node-reader`)).status).toBe(404);
  });

  it('lets the cluster’s RBAC decide for an impersonated person, with the API server’s 403', async () => {
    await call(`${RBAC}/clusterroles`, {
      method: 'POST',
      body: {
        metadata: { name: 'node-operator' },
        rules: [
          { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'patch'] },
          { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
          { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
        ],
      },
    });
    await call(`${RBAC}/clusterrolebindings`, {
      method: 'POST',
      body: {
        metadata: { name: 'sre-operates-nodes' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'node-operator' },
        subjects: [{ kind: 'Group', name: 'sre', apiGroup: 'rbac.authorization.k8s.io' }],
      },
    });
    const sre = { user: 'sam@example.com', groups: ['sre'] };
    const ana = { user: 'ana@example.com', groups: ['team-a'] };
    const patch = (as: typeof sre) =>
      call(`/api/v1/nodes/${node}`, {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: cordon,
        as,
      });

    expect((await patch(sre)).status).toBe(200);
    expect((await call('/api/v1/pods', { as: sre })).status).toBe(200);

    const refused = await patch(ana);
    expect(refused.status).toBe(403);
    expect(StatusSchema.parse(refused.body)).toMatchObject({
      reason: 'Forbidden',
      message: `nodes "${node}" is forbidden: User "ana@example.com" cannot patch resource "nodes" in API group "" at the cluster scope`,
      details: { name: node, kind: 'nodes' },
    });
    const list = await call('/api/v1/pods', { as: ana });
    expect(StatusSchema.parse(list.body).message).toBe(
      'pods is forbidden: User "ana@example.com" cannot list resource "pods" in API group "" at the cluster scope',
    );
    const evict = await call(`/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/eviction`, {
      method: 'POST',
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: pod.name, namespace: pod.namespace },
      },
      as: ana,
    });
    expect(evict.status).toBe(403);
    expect(StatusSchema.parse(evict.body).message).toBe(
      `pods "${pod.name}" is forbidden: User "ana@example.com" cannot create resource "pods/eviction" in API group "" in the namespace "${pod.namespace}"`,
    );
    // A user binding works as a group one does; system:masters may do anything.
    expect((await patch({ user: 'root', groups: ['system:masters'] })).status).toBe(200);
    // Without impersonation kube-sim's own credential is unaffected.
    expect((await call(`/api/v1/nodes/${node}`)).status).toBe(200);
    // Groups without a user are refused, and the RBAC API is not for impersonated callers.
    const headers = { authorization: `Bearer ${sim.token}`, 'impersonate-group': 'sre' };
    expect((await fetch(`${sim.url}/api/v1/nodes`, { headers })).status).toBe(400);
    expect((await call(`${RBAC}/clusterroles`, { as: sre })).status).toBe(400);
  });
});
