import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from '../src/index.js';
import { api, StatusSchema } from './support/sim-client.js';

let sim: KubeSim;
beforeAll(async () => {
  sim = await startKubeSim({ nodes: 2, pods: 0, seed: 4, autoRun: false, kubernetesMinor: 31 });
});
afterAll(async () => {
  await sim?.close();
});

interface OpenApiDocument {
  openapi: string;
  info: { version: string };
  paths: Record<
    string,
    Record<string, { parameters: { name: string }[]; 'x-kubernetes-group-version-kind': unknown }>
  >;
  components: {
    schemas: Record<string, { 'x-kubernetes-group-version-kind'?: unknown[]; properties?: object }>;
  };
}

describe('OpenAPI v3 (kubectl explain, server-side field validation)', () => {
  it('serves an index of group-version documents, each at a URL with its hash', async () => {
    const index = await api<{ paths: Record<string, { serverRelativeURL: string }> }>(sim, '/openapi/v3');
    expect(index.status).toBe(200);
    expect(Object.keys(index.body.paths).sort()).toEqual([
      'api/v1',
      'apis/apps/v1',
      'apis/batch/v1',
      'apis/coordination.k8s.io/v1',
      'apis/policy/v1',
    ]);
    const url = index.body.paths['api/v1']?.serverRelativeURL as string;
    expect(url).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
    const doc = await api<OpenApiDocument>(sim, url);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.0.0');
    expect(doc.body.info.version).toBe('v1.31.9');
    expect(
      doc.body.components.schemas['io.k8s.api.core.v1.Node']?.['x-kubernetes-group-version-kind'],
    ).toEqual([{ group: '', version: 'v1', kind: 'Node' }]);
    const patch = doc.body.paths['/api/v1/nodes/{name}']?.['patch'];
    expect(patch?.['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'Node' });
    expect(patch?.parameters.map((p) => p.name)).toContain('fieldValidation');
    expect((await api(sim, '/openapi/v3/apis/nope/v1')).status).toBe(404);
    expect((await api(sim, '/openapi/v3', { token: null })).status).toBe(401);
  });

  it('fieldValidation=Strict refuses unknown fields (400), Warn (the default) warns, Ignore says nothing', async () => {
    const body = { metadata: { name: 'strict', labelz: { a: 'b' } }, spec: { finalizers: [] } };
    const strict = await api(sim, '/api/v1/namespaces?fieldValidation=Strict', { method: 'POST', body });
    expect(strict.status).toBe(400);
    expect(StatusSchema.parse(strict.body).message).toBe(
      'strict decoding error: unknown field "metadata.labelz"',
    );
    const warned = await api(sim, '/api/v1/namespaces', { method: 'POST', body });
    expect(warned.status).toBe(201);
    expect(warned.headers.get('warning')).toBe('299 - "unknown field \\"metadata.labelz\\""');
    const name = sim.cluster.store.kind('Node').sorted()[0]?.metadata.name as string;
    const patched = await api(sim, `/api/v1/nodes/${name}?fieldValidation=Strict`, {
      method: 'PATCH',
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { taints: [{ key: 'k', effect: 'NoSchedule', colour: 'red' }] } },
    });
    expect(patched.status).toBe(400);
    expect(StatusSchema.parse(patched.body).message).toBe(
      'strict decoding error: unknown field "spec.taints[0].colour"',
    );
    const known = await api(sim, `/api/v1/nodes/${name}?fieldValidation=Strict`, {
      method: 'PATCH',
      contentType: 'application/strategic-merge-patch+json',
      body: { metadata: { labels: { a: 'b' } }, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } },
    });
    expect(known.status).toBe(200);
    const ignored = await api(sim, '/api/v1/namespaces?fieldValidation=Ignore', {
      method: 'POST',
      body: { ...body, metadata: { ...body.metadata, name: 'ignored' } },
    });
    expect(ignored.status).toBe(201);
    expect(ignored.headers.get('warning')).toBeNull();
  });
});
