import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from '../src/index.js';
import { fields, text, type Field } from '../src/server/protobuf-wire.js';
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
    Record<
      string,
      {
        parameters: { name: string }[];
        requestBody: { content: Record<string, unknown> };
        'x-kubernetes-group-version-kind': unknown;
      }
    >
  >;
  components: {
    schemas: Record<string, { 'x-kubernetes-group-version-kind'?: unknown[]; properties?: object }>;
  };
}

interface SwaggerJson {
  swagger: string;
  info: { version: string };
  definitions: Record<string, { 'x-kubernetes-group-version-kind'?: unknown[]; properties?: object }>;
  paths: Record<string, Record<string, unknown>>;
}

/** GET an OpenAPI path with exact headers, keeping the body's bytes as sent (no decompression). */
function getOpenApi(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${sim.url}${path}`,
      { headers: { authorization: `Bearer ${sim.token}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

/** The fields of a message numbered `number`, each decoded as a message. */
function messages(message: Field[], number: number): Field[][] {
  return message.filter((f) => f.number === number).map((f) => fields(f.bytes ?? Buffer.alloc(0)));
}
/** A repeated Named* message (name 1, value 2) as a map. */
function namedMap(entries: Field[][]): Map<string, Field[]> {
  return new Map(entries.map((e) => [text(e.find((f) => f.number === 1)) ?? '', messages(e, 2)[0] ?? []]));
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
    // kubectl computes a strategic merge patch for apply only where the PATCH body offers that type.
    expect(Object.keys(patch?.requestBody.content ?? {})).toContain('application/strategic-merge-patch+json');
    expect(doc.body.components.schemas['io.k8s.api.core.v1.NodeStatus']?.properties).toMatchObject({
      conditions: { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'type' },
    });
    expect((await api(sim, '/openapi/v3/apis/nope/v1')).status).toBe(404);
    expect((await api(sim, '/openapi/v3', { token: null })).status).toBe(401);
  });

  it('lets clients cache: the hash is the ETag, a current hash is immutable, a stale one redirects, If-None-Match gets 304', async () => {
    const index = await getOpenApi('/openapi/v3', {});
    expect(index.headers['etag']).toMatch(/^"[0-9A-F]{128}"$/);
    expect(
      (await getOpenApi('/openapi/v3', { 'if-none-match': index.headers['etag'] as string })).status,
    ).toBe(304);
    const url = (
      JSON.parse(index.body.toString('utf8')) as { paths: Record<string, { serverRelativeURL: string }> }
    ).paths['apis/policy/v1']?.serverRelativeURL as string;
    const hash = new URL(url, sim.url).searchParams.get('hash') as string;
    const doc = await getOpenApi(url, { accept: 'application/json' });
    expect(doc.status).toBe(200);
    expect(doc.headers['etag']).toBe(`"${hash}"`);
    expect(doc.headers['cache-control']).toBe('public, immutable');
    expect(Date.parse(doc.headers['expires'] as string) - Date.now()).toBeGreaterThan(360 * 86_400_000);
    const stale = await getOpenApi('/openapi/v3/apis/policy/v1?hash=0123', {});
    expect(stale.status).toBe(301);
    expect(stale.headers['location']).toBe(url);
    const unhashed = await getOpenApi('/openapi/v3/apis/policy/v1', { 'if-none-match': `"${hash}"` });
    expect(unhashed.status).toBe(304);
    expect((await getOpenApi('/openapi/v3/apis/policy/v1', {})).headers['cache-control']).toBe(
      'no-cache, private',
    );
    expect(
      (await getOpenApi(url, { accept: 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf' }))
        .status,
    ).toBe(406);
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

describe('OpenAPI v2 (kubectl 1.27 and 1.28: explain, validation)', () => {
  it('serves Swagger 2.0 JSON by default: real definition names, $refs that resolve, kinds with their GVK, PATCH with fieldValidation', async () => {
    const res = await getOpenApi('/openapi/v2', {});
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['etag']).toMatch(/^"[0-9A-F]{128}"$/);
    const doc = JSON.parse(res.body.toString('utf8')) as SwaggerJson;
    expect(doc.swagger).toBe('2.0');
    expect(doc.info.version).toBe('v1.31.9');
    expect(doc.definitions['io.k8s.api.core.v1.Node']?.['x-kubernetes-group-version-kind']).toEqual([
      { group: '', version: 'v1', kind: 'Node' },
    ]);
    expect(doc.definitions['io.k8s.api.core.v1.NodeSpec']?.properties).toMatchObject({
      taints: { type: 'array', items: { $ref: '#/definitions/io.k8s.api.core.v1.Taint' } },
    });
    expect(doc.definitions['io.k8s.api.core.v1.PodSpec']?.properties).toMatchObject({
      containers: { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
    });
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/definitions\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(doc.definitions, ref).toHaveProperty([ref as string]);
    expect(JSON.stringify(doc)).not.toContain('allOf');
    const patch = doc.paths['/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}']?.[
      'patch'
    ] as {
      parameters: { name: string; in: string }[];
      'x-kubernetes-group-version-kind': unknown;
    };
    expect(patch['x-kubernetes-group-version-kind']).toEqual({
      group: 'policy',
      version: 'v1',
      kind: 'PodDisruptionBudget',
    });
    expect(patch.parameters).toContainEqual(
      expect.objectContaining({ name: 'fieldValidation', in: 'query' }),
    );
    expect((await api(sim, '/openapi/v2', { token: null })).status).toBe(401);
  });

  it('serves the same document as gnostic protobuf to kubectl, with the same ETag', async () => {
    const json = await getOpenApi('/openapi/v2', { accept: 'application/json' });
    const res = await getOpenApi('/openapi/v2', { accept: PROTOBUF });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    expect(res.headers['etag']).toBe(json.headers['etag']);
    expect(res.headers['vary']).toBe('Accept-Encoding, Accept');
    const doc = fields(res.body);
    expect(text(doc.find((f) => f.number === 1))).toBe('2.0');
    const info = messages(doc, 2)[0] ?? [];
    expect(text(info.find((f) => f.number === 2))).toBe('v1.31.9');
    const definitions = namedMap(messages(messages(doc, 9)[0] ?? [], 1));
    const swagger = JSON.parse(json.body.toString('utf8')) as SwaggerJson;
    expect([...definitions.keys()]).toEqual(Object.keys(swagger.definitions));
    const node = definitions.get('io.k8s.api.core.v1.Node') ?? [];
    const extensions = namedMap(messages(node, 31));
    const gvk = extensions.get('x-kubernetes-group-version-kind') ?? [];
    expect(text(gvk.find((f) => f.number === 2))).toBe('- group: ""\n  kind: Node\n  version: v1\n');
    // Schema.properties (25) > NamedSchema: taints is an array (type 22) of $ref (items 23 > schema 1 > _ref 1).
    const spec = namedMap(
      messages(messages(definitions.get('io.k8s.api.core.v1.NodeSpec') ?? [], 25)[0] ?? [], 1),
    );
    const taints = spec.get('taints') ?? [];
    expect(text(messages(taints, 22)[0]?.find((f) => f.number === 1))).toBe('array');
    const item = messages(messages(taints, 23)[0] ?? [], 1)[0] ?? [];
    expect(text(item.find((f) => f.number === 1))).toBe('#/definitions/io.k8s.api.core.v1.Taint');
    // Paths (8) > NamedPathItem (2) > PathItem.patch (8) > parameters (8) > Parameter (1) > NonBodyParameter (2) > query (3) > name (4).
    const paths = namedMap(messages(messages(doc, 8)[0] ?? [], 2));
    const nodePatch = messages(paths.get('/api/v1/nodes/{name}') ?? [], 8)[0] ?? [];
    const queryNames = messages(nodePatch, 8)
      .map((p) => messages(messages(messages(p, 1)[0] ?? [], 2)[0] ?? [], 3)[0] ?? [])
      .map((q) => text(q.find((f) => f.number === 4)));
    expect(queryNames).toContain('fieldValidation');
    expect(nodePatch.filter((f) => f.number === 7).map((f) => text(f))).toContain(
      'application/strategic-merge-patch+json',
    );
  });

  it('answers If-None-Match with 304, gzips for clients that accept it, and 406s what it cannot serve', async () => {
    const first = await getOpenApi('/openapi/v2', { accept: PROTOBUF });
    const etag = first.headers['etag'] as string;
    const again = await getOpenApi('/openapi/v2', { accept: PROTOBUF, 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers['etag']).toBe(etag);
    expect(again.headers['content-type']).toBeUndefined();
    expect((await getOpenApi('/openapi/v2', { 'if-none-match': `W/${etag}` })).status).toBe(304);
    expect((await getOpenApi('/openapi/v2', { accept: PROTOBUF, 'if-none-match': '"stale"' })).status).toBe(
      200,
    );
    const zipped = await getOpenApi('/openapi/v2', { accept: PROTOBUF, 'accept-encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).equals(first.body)).toBe(true);
    expect((await getOpenApi('/openapi/v2', { accept: 'text/html' })).status).toBe(406);
    expect(
      (await getOpenApi('/openapi/v2', { accept: 'text/html, application/*;q=0.5' })).headers['content-type'],
    ).toBe('application/json');
  });
});
