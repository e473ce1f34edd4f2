import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { startKubeSim, TruthSchema, type KubeSim, type KubeObject } from '../src/index.js';
import { api, StatusSchema } from './support/sim-client.js';

let sim: KubeSim;
let node: string;

beforeAll(async () => {
  sim = await startKubeSim({ nodes: 6, pods: 40, seed: 5, kubelet: { startupMs: 50, stopMs: 100 } });
  node = sim.cluster.store.kind('Node').sorted()[4]?.metadata.name as string;
});

afterAll(async () => {
  await sim?.close();
});

const getNode = async (name = node) => (await api<KubeObject>(sim, `/api/v1/nodes/${name}`)).body;

function patch(path: string, contentType: string, body: unknown) {
  return api<KubeObject>(sim, path, { method: 'PATCH', contentType, body });
}

describe('patches end to end', () => {
  it('merge patch: adds and overwrites labels, null deletes one', async () => {
    await patch(`/api/v1/nodes/${node}`, 'application/merge-patch+json', {
      metadata: { labels: { a: '1', b: '2' } },
    });
    const res = await patch(`/api/v1/nodes/${node}`, 'application/merge-patch+json', {
      metadata: { labels: { a: '9', b: null } },
    });
    expect(res.status).toBe(200);
    expect(res.body.metadata.labels?.['a']).toBe('9');
    expect(res.body.metadata.labels).not.toHaveProperty('b');
    expect(res.body.kind).toBe('Node');
  });

  it('strategic merge patch: taints replace as a whole list; null removes the field', async () => {
    await patch(`/api/v1/nodes/${node}`, 'application/strategic-merge-patch+json', {
      spec: {
        taints: [
          { key: 'one', value: 'x', effect: 'NoSchedule' },
          { key: 'two', effect: 'NoExecute' },
        ],
      },
    });
    const replaced = await patch(`/api/v1/nodes/${node}`, 'application/strategic-merge-patch+json', {
      spec: { taints: [{ key: 'three', effect: 'PreferNoSchedule' }] },
    });
    expect(replaced.body.spec?.['taints']).toEqual([{ key: 'three', effect: 'PreferNoSchedule' }]);
    const removed = await patch(`/api/v1/nodes/${node}`, 'application/strategic-merge-patch+json', {
      spec: { taints: null },
    });
    expect(removed.body.spec).not.toHaveProperty('taints');
  });

  it('JSON patch: add, replace, remove, and a failing test op is 422 Invalid', async () => {
    const added = await patch(`/api/v1/nodes/${node}`, 'application/json-patch+json', [
      { op: 'add', path: '/metadata/labels/jp', value: 'on' },
      { op: 'add', path: '/spec/unschedulable', value: true },
    ]);
    expect(added.status).toBe(200);
    expect(added.body.metadata.labels?.['jp']).toBe('on');
    expect(added.body.spec?.['unschedulable']).toBe(true);
    const removed = await patch(`/api/v1/nodes/${node}`, 'application/json-patch+json', [
      { op: 'remove', path: '/metadata/labels/jp' },
      { op: 'remove', path: '/spec/unschedulable' },
    ]);
    expect(removed.body.metadata.labels).not.toHaveProperty('jp');
    expect(removed.body.spec).not.toHaveProperty('unschedulable');
    const failed = await patch(`/api/v1/nodes/${node}`, 'application/json-patch+json', [
      { op: 'test', path: '/metadata/name', value: 'someone-else' },
    ]);
    expect(failed.status).toBe(422);
    expect(StatusSchema.parse(failed.body)).toMatchObject({ reason: 'Invalid', code: 422 });
  });

  it('a patch never changes status through the main resource, but nodes/status does', async () => {
    // The JSON patch above cordoned and uncordoned the node: if the lifecycle controller's
    // pass ran in between, it added the unschedulable taint and removes it on its own schedule,
    // a write that must not land between `before` and the no-op patch below. Once no
    // lifecycle taint is left, a pending pass finds nothing to write.
    const before = await waitFor(
      async () => {
        const current = await getNode();
        const taints = (current.spec?.['taints'] ?? []) as { key: string }[];
        return taints.some((t) => t.key.startsWith('node.kubernetes.io/')) ? false : current;
      },
      { timeout: 10_000, what: 'no lifecycle taint left on the node' },
    );
    const res = await patch(`/api/v1/nodes/${node}`, 'application/merge-patch+json', {
      status: { capacity: { pods: '1' } },
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toEqual(before.status);
    expect(res.body.metadata.resourceVersion).toBe(before.metadata.resourceVersion); // a no-op is not written
    const viaStatus = await patch(`/api/v1/nodes/${node}/status`, 'application/merge-patch+json', {
      status: { capacity: { pods: '55' } },
    });
    expect((viaStatus.body.status?.['capacity'] as Record<string, string>)['pods']).toBe('55');
    expect(TruthSchema.parse((await api(sim, '/_sim/truth')).body).nodes[node]?.capacity['pods']).toBe('55');
  });

  it('answers 415 for a patch content type it does not support', async () => {
    const res = await patch(`/api/v1/nodes/${node}`, 'application/json', {
      metadata: { labels: { x: 'y' } },
    });
    expect(res.status).toBe(415);
    expect(StatusSchema.parse(res.body)).toMatchObject({ reason: 'UnsupportedMediaType', code: 415 });
  });

  it('PUT with a stale resourceVersion is 409 Conflict; with the current one it succeeds', async () => {
    const current = await getNode();
    const ok = await api<KubeObject>(sim, `/api/v1/nodes/${node}`, {
      method: 'PUT',
      body: {
        ...current,
        metadata: { ...current.metadata, labels: { ...current.metadata.labels, put: '1' } },
      },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.metadata.labels?.['put']).toBe('1');
    const stale = await api(sim, `/api/v1/nodes/${node}`, {
      method: 'PUT',
      body: { ...current, metadata: { ...current.metadata, labels: { put: '2' } } },
    });
    expect(stale.status).toBe(409);
    expect(StatusSchema.parse(stale.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `Operation cannot be fulfilled on nodes "${node}": the object has been modified; please apply your changes to the latest version and try again`,
      reason: 'Conflict',
      details: { name: node, kind: 'nodes' },
      code: 409,
    });
    const staleMerge = await patch(`/api/v1/nodes/${node}`, 'application/merge-patch+json', {
      metadata: { resourceVersion: current.metadata.resourceVersion, labels: { put: '3' } },
    });
    expect(staleMerge.status).toBe(409);
  });
});

describe('creates, deletes and errors', () => {
  it('creates a node (201), refuses a duplicate (409 AlreadyExists) and invalid taints (422 with causes)', async () => {
    const body = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'made-by-test', labels: { made: 'yes' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const created = await api<KubeObject>(sim, '/api/v1/nodes', { method: 'POST', body });
    expect(created.status).toBe(201);
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const dup = await api(sim, '/api/v1/nodes', { method: 'POST', body });
    expect(dup.status).toBe(409);
    expect(StatusSchema.parse(dup.body)).toMatchObject({
      reason: 'AlreadyExists',
      message: 'nodes "made-by-test" already exists',
      details: { name: 'made-by-test', kind: 'nodes' },
    });
    const invalid = await patch('/api/v1/nodes/made-by-test', 'application/strategic-merge-patch+json', {
      spec: { taints: [{ key: 'k', effect: 'Sometimes' }] },
    });
    expect(invalid.status).toBe(422);
    const status = StatusSchema.parse(invalid.body);
    expect(status.reason).toBe('Invalid');
    expect(status.message).toMatch(
      /^Node "made-by-test" is invalid: spec\.taints\[0\]\.effect: Unsupported value/,
    );
    expect(status.details?.causes?.[0]).toMatchObject({
      reason: 'FieldValueNotSupported',
      field: 'spec.taints[0].effect',
    });
    const deleted = await api(sim, '/api/v1/nodes/made-by-test', { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(StatusSchema.parse(deleted.body)).toMatchObject({
      status: 'Success',
      details: { name: 'made-by-test', kind: 'nodes' },
    });
  });

  it('creates a pod with generateName; the scheduler binds it and the kubelet runs it; graceful delete then gone', async () => {
    const created = await api<KubeObject>(sim, '/api/v1/namespaces/default/pods', {
      method: 'POST',
      body: { metadata: { generateName: 'gen-' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    });
    expect(created.status).toBe(201);
    const name = created.body.metadata.name;
    expect(name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(created.body.status?.['phase']).toBe('Pending');
    const running = await waitFor(
      async () => {
        const pod = (await api<KubeObject>(sim, `/api/v1/namespaces/default/pods/${name}`)).body;
        return pod.status?.['phase'] === 'Running' ? pod : undefined;
      },
      { timeout: 15_000, what: 'pod running' },
    );
    const boundTo = running.spec?.['nodeName'] as string;
    expect(sim.cluster.store.get('Node', boundTo)).toBeDefined();
    const del = await api<KubeObject>(sim, `/api/v1/namespaces/default/pods/${name}`, {
      method: 'DELETE',
      body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 5 },
    });
    expect(del.status).toBe(200);
    expect(del.body.metadata.deletionTimestamp).toBeDefined();
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(5);
    await waitFor(async () => (await api(sim, `/api/v1/namespaces/default/pods/${name}`)).status === 404, {
      timeout: 15_000,
      what: 'pod gone',
    });
  });

  it('does not schedule a pod onto nodes whose NoSchedule taint it does not tolerate', async () => {
    const nodes = sim.cluster.store
      .kind('Node')
      .sorted()
      .map((n) => n.metadata.name);
    for (const n of nodes) {
      await patch(`/api/v1/nodes/${n}`, 'application/merge-patch+json', {
        metadata: { labels: { pick: n === node ? 'me' : 'no' } },
      });
    }
    await patch(`/api/v1/nodes/${node}`, 'application/strategic-merge-patch+json', {
      spec: { taints: [{ key: 'special', effect: 'NoSchedule' }] },
    });
    const make = (name: string, tolerate: boolean) =>
      api(sim, '/api/v1/namespaces/default/pods', {
        method: 'POST',
        body: {
          metadata: { name },
          spec: {
            nodeSelector: { pick: 'me' },
            containers: [{ name: 'c', image: 'nginx' }],
            ...(tolerate
              ? { tolerations: [{ key: 'special', operator: 'Exists', effect: 'NoSchedule' }] }
              : {}),
          },
        },
      });
    expect((await make('tolerant', true)).status).toBe(201);
    expect((await make('intolerant', false)).status).toBe(201);
    await waitFor(() => sim.cluster.store.get('Pod', 'default/tolerant')?.spec?.['nodeName'] === node, {
      what: 'tolerant pod bound',
    });
    expect(sim.cluster.store.get('Pod', 'default/intolerant')?.spec?.['nodeName']).toBeUndefined();
    await patch(`/api/v1/nodes/${node}`, 'application/strategic-merge-patch+json', {
      spec: { taints: null },
    });
    await waitFor(() => sim.cluster.store.get('Pod', 'default/intolerant')?.spec?.['nodeName'] === node, {
      what: 'pod bound once the taint is gone',
    });
  });

  it('answers 404 with a full Status for unknown objects, paths and namespaces', async () => {
    const missing = await api(sim, '/api/v1/nodes/nope');
    expect(missing.status).toBe(404);
    expect(StatusSchema.parse(missing.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'nodes "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'nodes' },
      code: 404,
    });
    const ds = await api(sim, '/apis/apps/v1/namespaces/default/daemonsets/nope');
    expect(StatusSchema.parse(ds.body)).toMatchObject({
      message: 'daemonsets.apps "nope" not found',
      details: { group: 'apps' },
    });
    const path = await api(sim, '/api/v1/widgets');
    expect(path.status).toBe(404);
    expect(StatusSchema.parse(path.body).reason).toBe('NotFound');
    const ns = await api(sim, '/api/v1/namespaces/ghost/pods', {
      method: 'POST',
      body: { metadata: { name: 'x' }, spec: {} },
    });
    expect(ns.status).toBe(404);
    expect(StatusSchema.parse(ns.body).message).toBe('namespaces "ghost" not found');
  });

  it('answers 415 for a protobuf or CBOR body (kube-sim has only a JSON codec)', async () => {
    for (const contentType of ['application/vnd.kubernetes.protobuf', 'application/cbor']) {
      const res = await api(sim, '/api/v1/namespaces', { method: 'POST', contentType, body: 'k8s\u0000' });
      expect(res.status).toBe(415);
      expect(StatusSchema.parse(res.body)).toMatchObject({ reason: 'UnsupportedMediaType', code: 415 });
    }
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await api(sim, `/api/v1/nodes/${node}`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: '{nope',
    });
    expect(res.status).toBe(400);
    expect(StatusSchema.parse(res.body)).toMatchObject({ reason: 'BadRequest', code: 400 });
  });

  it('deletes a namespace: Terminating first, then gone with everything in it', async () => {
    expect(
      (await api(sim, '/api/v1/namespaces', { method: 'POST', body: { metadata: { name: 'doomed' } } }))
        .status,
    ).toBe(201);
    for (const name of ['p1', 'p2']) {
      const res = await api(sim, '/api/v1/namespaces/doomed/pods', {
        method: 'POST',
        body: { metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      });
      expect(res.status).toBe(201);
    }
    const del = await api<KubeObject>(sim, '/api/v1/namespaces/doomed', { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(del.body.status?.['phase']).toBe('Terminating');
    await waitFor(async () => (await api(sim, '/api/v1/namespaces/doomed')).status === 404, {
      what: 'namespace gone',
    });
    expect(sim.cluster.store.kind('Pod').sorted('doomed/')).toEqual([]);
  });

  it('serves namespaces, DaemonSets and ReplicaSets', async () => {
    const namespaces = await api<{ items: KubeObject[] }>(sim, '/api/v1/namespaces');
    expect(namespaces.body.items.map((n) => n.metadata.name)).toContain('kube-system');
    expect((await api<KubeObject>(sim, '/api/v1/namespaces/default')).body.kind).toBe('Namespace');
    const ds = sim.cluster.store.kind('DaemonSet').sorted()[0] as KubeObject;
    const got = await api<KubeObject>(
      sim,
      `/apis/apps/v1/namespaces/${ds.metadata.namespace}/daemonsets/${ds.metadata.name}`,
    );
    expect(got.body).toMatchObject({
      kind: 'DaemonSet',
      apiVersion: 'apps/v1',
      metadata: { name: ds.metadata.name },
    });
    const rs = sim.cluster.store.kind('ReplicaSet').sorted()[0] as KubeObject;
    expect(
      (
        await api<KubeObject>(
          sim,
          `/apis/apps/v1/namespaces/${rs.metadata.namespace}/replicasets/${rs.metadata.name}`,
        )
      ).status,
    ).toBe(200);
  });
});

describe('authentication', () => {
  it('answers 401 Unauthorized (a Status) without the token or with a wrong one; health, version and /_sim stay open', async () => {
    for (const token of [null, 'wrong-token']) {
      const res = await api(sim, '/api/v1/nodes', { token });
      expect(res.status).toBe(401);
      expect(StatusSchema.parse(res.body)).toMatchObject({
        status: 'Failure',
        reason: 'Unauthorized',
        code: 401,
      });
    }
    for (const path of ['/healthz', '/readyz', '/livez']) {
      const res = await api(sim, path, { token: null });
      expect([res.status, res.body]).toEqual([200, 'ok']);
    }
    const version = await api<{ major: string; minor: string }>(sim, '/version', { token: null });
    expect(version.body).toMatchObject({ major: '1', minor: '32' });
    expect((await api(sim, '/_sim/truth', { token: null })).status).toBe(200);
  });

  it('serves the same API over HTTPS, which the kubeconfig names with its CA and token', () => {
    const config = JSON.parse(sim.kubeconfig()) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { token: string } }[];
    };
    expect(config.clusters[0]?.cluster.server).toBe(sim.httpsUrl);
    expect(sim.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(
      Buffer.from(config.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(),
    ).toContain('BEGIN CERTIFICATE');
    expect(config.users[0]?.user.token).toBe(sim.token);
  });
});
