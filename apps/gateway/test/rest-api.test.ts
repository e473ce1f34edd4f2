import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ClusterListResponseSchema,
  ErrorBodySchema,
  NodeListResponseSchema,
  NodeResponseSchema,
  PodCountsResponseSchema,
  type ErrorBody,
  type NodeListResponse,
} from '@knm/contracts';
import { createTestRedis, makeNodeSnapshot, type TestRedis } from '@knm/testing';
import {
  httpCall,
  seedCluster,
  startGateway,
  token,
  type RunningGateway,
} from './support/gateway-harness.js';

let redis: TestRedis;
let gw: RunningGateway;
let viewerAll: string;
const closers: (() => Promise<void>)[] = [];

const devNodes = [
  makeNodeSnapshot('cp-1', {
    labels: { 'node-role.kubernetes.io/control-plane': '', zone: 'a' },
    roles: ['control-plane'],
    taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
  }),
  makeNodeSnapshot('worker-1', { labels: { zone: 'a', tier: 'web' }, roles: ['worker'] }),
  makeNodeSnapshot('worker-2', {
    labels: { zone: 'b', tier: 'web' },
    roles: ['worker'],
    unschedulable: true,
  }),
  makeNodeSnapshot('worker-3', { labels: { zone: 'b', tier: 'db' }, roles: ['worker'], ready: 'False' }),
];
const devPods = { 'cp-1': 5, 'worker-1': 30, 'worker-2': 2, 'worker-3': 17 };

function get(path: string, auth: string | null = viewerAll, headers: Record<string, string> = {}) {
  return httpCall(gw.url, path, { auth, headers });
}

async function expectError(path: string, status: number, message: RegExp, auth?: string): Promise<ErrorBody> {
  const res = await get(path, auth ?? viewerAll);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const body = ErrorBodySchema.parse(res.body);
  expect(body.statusCode).toBe(status);
  expect(body.message).toMatch(message);
  return body;
}

beforeEach(async () => {
  redis = await createTestRedis();
  closers.push(() => redis.close());
  await seedCluster(redis, 'dev', devNodes, devPods);
  await seedCluster(redis, 'prod', [makeNodeSnapshot('p-1')], { 'p-1': 3 });
  gw = await startGateway(redis);
  closers.unshift(() => gw.close());
  viewerAll = await token();
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('health', () => {
  it('serves /healthz, /readyz and /metrics without a token', async () => {
    expect(await get('/healthz', null)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get('/readyz', null)).toMatchObject({ status: 200, body: { status: 'ready' } });
    await get('/api/v1/clusters');
    const metrics = await get('/metrics', null);
    expect(metrics.status).toBe(200);
    expect(String(metrics.body)).toMatch(
      /knm_gateway_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/clusters",status="200"\} 1/,
    );
  });

  it('serves the OpenAPI document', async () => {
    const doc = await get('/api/docs-json', null);
    expect(doc.status).toBe(200);
    expect(doc.body).toMatchObject({ openapi: '3.1.0' });
    expect(Object.keys((doc.body as { paths: object }).paths)).toContain('/api/v1/clusters/{cluster}/nodes');
    expect(Object.keys((doc.body as { paths: object }).paths)).toContain('/api/v1/operations/{id}/cancel');
    const ui = await fetch(`${gw.url}/api/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });
});

describe('clusters', () => {
  it('lists every cluster with status, totals and seq', async () => {
    const res = await get('/api/v1/clusters');
    expect(res.status).toBe(200);
    const { items } = ClusterListResponseSchema.parse(res.body);
    expect(items.map((c) => [c.name, c.status, c.nodeCount, c.podCount, c.seq])).toEqual([
      ['dev', 'ready', 4, 54, 1],
      ['prod', 'ready', 1, 3, 1],
    ]);
    expect(items[0]?.server).toBe('https://kube.example');
  });

  it('reports stale when the watcher heartbeat is older than KNM_STALE_AFTER_MS', async () => {
    const strict = await startGateway(redis, { staleAfterMs: 1 });
    closers.unshift(() => strict.close());
    await new Promise((r) => setTimeout(r, 20));
    const res = await fetch(`${strict.url}/api/v1/clusters`, {
      headers: { authorization: `Bearer ${viewerAll}` },
    });
    const { items } = ClusterListResponseSchema.parse(await res.json());
    expect(items.map((c) => c.status)).toEqual(['stale', 'stale']);
  });
});

describe('nodes', () => {
  const names = (body: unknown) => NodeListResponseSchema.parse(body).items.map((n) => n.name);

  it('lists nodes with pod counts, capacity, seq and epoch', async () => {
    const res = await get('/api/v1/clusters/dev/nodes');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = NodeListResponseSchema.parse(res.body);
    expect(body).toMatchObject({ cluster: 'dev', seq: 1, total: 4 });
    expect(body.epoch).toBeGreaterThan(0);
    expect(body.continue).toBeUndefined();
    expect(body.items.map((n) => [n.name, n.podCount, n.podCapacity])).toEqual([
      ['cp-1', 5, 110],
      ['worker-1', 30, 110],
      ['worker-2', 2, 110],
      ['worker-3', 17, 110],
    ]);
  });

  it.each([
    ['labelSelector=zone%3Db', ['worker-2', 'worker-3']],
    ['labelSelector=tier%20in%20(web)%2C!node-role.kubernetes.io%2Fcontrol-plane', ['worker-1', 'worker-2']],
    ['ready=false', ['worker-3']],
    ['schedulable=false', ['worker-2']],
    ['role=control-plane', ['cp-1']],
    ['q=WORKER-', ['worker-1', 'worker-2', 'worker-3']],
    ['taint=node-role.kubernetes.io%2Fcontrol-plane%3ANoSchedule', ['cp-1']],
    ['sort=pods&order=desc', ['worker-1', 'worker-3', 'cp-1', 'worker-2']],
  ])('filters and sorts: %s', async (query, expected) => {
    const res = await get(`/api/v1/clusters/dev/nodes?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(names(res.body)).toEqual(expected);
  });

  it('pages with limit and continue, through both URLs', async () => {
    const seen: string[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const path: string = `/api/v1/nodes?cluster_name=dev&sort=pods&limit=3${next ? `&continue=${next}` : ''}`;
      const body: NodeListResponse = NodeListResponseSchema.parse((await get(path)).body);
      expect(body.total).toBe(4);
      seen.push(...body.items.map((n) => n.name));
      next = body.continue;
      pages += 1;
    } while (next);
    expect(pages).toBe(2);
    expect(seen).toEqual(['worker-2', 'cp-1', 'worker-3', 'worker-1']);
  });

  it('answers 400 for a continue token of another cluster, even one at the same epoch and seq', async () => {
    await seedCluster(redis, 'stage', devNodes, devPods);
    const stage = NodeListResponseSchema.parse((await get('/api/v1/clusters/stage/nodes?limit=1')).body);
    const dev = NodeListResponseSchema.parse((await get('/api/v1/clusters/dev/nodes?limit=1')).body);
    expect([stage.epoch, stage.seq]).toEqual([dev.epoch, dev.seq]);
    const body = await expectError(
      `/api/v1/clusters/dev/nodes?limit=1&continue=${stage.continue}`,
      400,
      /continue token belongs to another cluster's listing/,
    );
    expect(body.details).toEqual([
      { path: 'continue', message: "this continue token belongs to another cluster's listing" },
    ]);
    expect(JSON.stringify(body)).not.toContain('stage');
    expect((await get(`/api/v1/clusters/stage/nodes?limit=1&continue=${stage.continue}`)).status).toBe(200);
  });

  it('answers 410 for a continue token made before a rebuild (new epoch)', async () => {
    const first = NodeListResponseSchema.parse((await get('/api/v1/clusters/dev/nodes?limit=1')).body);
    await seedCluster(redis, 'dev', devNodes, devPods);
    const body = await expectError(
      `/api/v1/clusters/dev/nodes?limit=1&continue=${first.continue}`,
      410,
      /resynced/,
    );
    expect(body.error).toBe('Gone');
  });

  it.each([
    ['/api/v1/clusters/dev/nodes?labelSelector=zone%20in%20(a', 'labelSelector'],
    ['/api/v1/clusters/dev/nodes?limit=0', 'limit'],
    ['/api/v1/clusters/dev/nodes?sort=cpu', 'sort'],
    ['/api/v1/clusters/dev/nodes?ready=maybe', 'ready'],
    ['/api/v1/clusters/dev/nodes?taint=k%3ASometimes', 'taint'],
    ['/api/v1/clusters/dev/nodes?continue=garbage', 'continue'],
    ['/api/v1/clusters/dev/nodes?color=red', ''],
    ['/api/v1/clusters/Not_A_Name/nodes', ''],
    ['/api/v1/nodes?cluster_name=Not_A_Name', 'cluster_name'],
  ])('answers 400 with details for %s', async (path, field) => {
    const res = await get(path);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const body = ErrorBodySchema.parse(res.body);
    expect(body.error).toBe('Bad Request');
    expect(body.details?.map((d) => d.path)).toContain(field);
  });

  it('answers 404 for an unknown cluster or node', async () => {
    await expectError('/api/v1/clusters/nope/nodes', 404, /cluster "nope" is not registered/);
    await expectError('/api/v1/clusters/nope/pod-counts', 404, /not registered/);
    await expectError('/api/v1/clusters/nope/nodes/x', 404, /not registered/);
    await expectError('/api/v1/clusters/dev/nodes/worker-9', 404, /node "worker-9" is not in cluster "dev"/);
  });

  it('returns one node and the pod counts with their seq', async () => {
    const node = NodeResponseSchema.parse((await get('/api/v1/clusters/dev/nodes/worker-1')).body);
    expect(node).toMatchObject({
      cluster: 'dev',
      seq: 1,
      node: { name: 'worker-1', podCount: 30, podCapacity: 110 },
    });
    const counts = PodCountsResponseSchema.parse((await get('/api/v1/clusters/dev/pod-counts')).body);
    expect(counts).toEqual({ cluster: 'dev', seq: 1, total: 54, counts: devPods });
  });
});

describe('snapshot cache', () => {
  it('never answers older than the seq at the time of the request, under concurrent writes', async () => {
    const { writer } = await seedCluster(redis, 'busy', devNodes, devPods);
    let writing = true;
    const background = (async () => {
      for (let i = 0; writing; i += 1) {
        await writer.applyNodeChanges([
          {
            type: 'node_update',
            node: makeNodeSnapshot('worker-1', { labels: { i: String(i) } }),
            changes: ['labels'],
          },
        ]);
      }
    })();
    const metaKey = redis.keyspace.cluster('busy' as never).meta;
    const checks = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const before = Number(await redis.client.hget(metaKey, 'seq'));
        const body = NodeListResponseSchema.parse((await get('/api/v1/clusters/busy/nodes?q=worker-1')).body);
        const counts = PodCountsResponseSchema.parse((await get('/api/v1/clusters/busy/pod-counts')).body);
        return { before, seq: body.seq, countsSeq: counts.seq, label: body.items[0]?.labels['i'] };
      }),
    );
    writing = false;
    await background;
    for (const c of checks) {
      expect(c.seq).toBeGreaterThanOrEqual(c.before);
      expect(c.countsSeq).toBeGreaterThanOrEqual(c.before);
      // The label written at seq s is i = s - 2 (seq 1 is the rebuild).
      expect(c.label === undefined ? -1 : Number(c.label)).toBe(c.seq - 2);
    }
    const final = NodeListResponseSchema.parse((await get('/api/v1/clusters/busy/nodes?q=worker-1')).body);
    expect(final.seq).toBe(Number(await redis.client.hget(metaKey, 'seq')));
  });
});
