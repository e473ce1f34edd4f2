import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ErrorBodySchema,
  HistoryPageSchema,
  IncidentsResponseSchema,
  MttrResponseSchema,
  toClusterName,
  type HistoryEntry,
  type NodeSnapshot,
} from '@knm/contracts';
import type { NodeStoreWriter } from '@knm/node-store';
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
let dev: NodeStoreWriter;
let prod: NodeStoreWriter;
const closers: (() => Promise<void>)[] = [];

/** Ten minutes ago: the sequence's transition times lie in the default MTTR period and flap window. */
const BASE = Date.now() - 600_000;
const at = (s: number) => new Date(BASE + s * 1000).toISOString();
const node = (name: string, ready: 'True' | 'False', s: number, over: Partial<NodeSnapshot> = {}) =>
  makeNodeSnapshot(name, {
    ready,
    labels: { 'node.kubernetes.io/pool': name.startsWith('gpu') ? 'gpu' : 'cpu' },
    conditions: [{ type: 'Ready', status: ready, lastTransitionTime: at(s) }],
    ...over,
  });

async function get(path: string, auth?: string) {
  return httpCall(gw.url, path, { auth: auth ?? (await token()) });
}

beforeEach(async () => {
  redis = await createTestRedis();
  closers.push(() => redis.close());
  ({ writer: dev } = await seedCluster(redis, 'dev', []));
  ({ writer: prod } = await seedCluster(redis, 'prod', []));
  // dev/w1: added, 3 flips of Ready (one closed incident of 20 s, one open), cordoned, tainted.
  await dev.applyNodeChanges([{ type: 'node_add', node: node('w1', 'True', 0) }]);
  await dev.applyNodeChanges([{ type: 'node_update', node: node('w1', 'False', 10), changes: ['status'] }]);
  await dev.applyNodeChanges([{ type: 'node_update', node: node('w1', 'True', 30), changes: ['status'] }]);
  await dev.applyNodeChanges([
    { type: 'node_update', node: node('w1', 'True', 30, { unschedulable: true }), changes: ['schedulable'] },
  ]);
  await dev.applyNodeChanges([
    {
      type: 'node_update',
      node: node('w1', 'True', 30, { unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] }),
      changes: ['taints'],
    },
  ]);
  await dev.applyNodeChanges([{ type: 'node_add', node: node('gpu-1', 'True', 0) }]);
  await dev.applyNodeChanges([
    { type: 'node_update', node: node('gpu-1', 'False', 40), changes: ['status'] },
  ]);
  await dev.applyNodeChanges([
    { type: 'node_update', node: node('gpu-1', 'True', 100), changes: ['status'] },
  ]);
  await dev.applyNodeChanges([
    { type: 'node_update', node: node('gpu-1', 'False', 200), changes: ['status'] },
  ]);
  await prod.applyNodeChanges([{ type: 'node_add', node: node('p1', 'False', 0) }]);
  gw = await startGateway(redis);
  closers.unshift(() => gw.close());
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('GET /api/v1/clusters/:c/nodes/:n/history', () => {
  it('pages the node history newest first with a before cursor, every entry once', async () => {
    const seen: HistoryEntry[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const res = await get(
        `/api/v1/clusters/dev/nodes/w1/history?limit=2${before ? `&before=${before}` : ''}`,
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const page = HistoryPageSchema.parse(res.body);
      seen.push(...page.items);
      before = page.next;
      if (!before) break;
    }
    expect(seen.map((e) => (e.kind === 'condition' ? `${e.condition}=${e.status}` : e.kind))).toEqual([
      'taint_added',
      'cordon',
      'Ready=True',
      'Ready=False',
      'node_added',
    ]);
    expect(new Set(seen.map((e) => e.id)).size).toBe(5);
  });

  it('a node with no history answers an empty page; an unknown cluster 404; bad queries 400 with a JSON body', async () => {
    expect((await get('/api/v1/clusters/dev/nodes/nobody/history')).body).toEqual({
      cluster: 'dev',
      node: 'nobody',
      items: [],
    });
    expect((await get('/api/v1/clusters/nope/nodes/w1/history')).status).toBe(404);
    for (const query of ['limit=0', 'limit=abc', 'limit=1001', 'before=xyz', 'extra=1']) {
      const res = await get(`/api/v1/clusters/dev/nodes/w1/history?${query}`);
      expect(res.status, query).toBe(400);
      expect(ErrorBodySchema.parse(res.body).statusCode).toBe(400);
    }
  });

  it('a token for another cluster gets 403, as the node routes answer', async () => {
    const prodOnly = await token({ clusters: [toClusterName('prod')] });
    expect((await get('/api/v1/clusters/dev/nodes/w1/history', prodOnly)).status).toBe(403);
    expect((await get('/api/v1/clusters/dev/nodes/w1', prodOnly)).status).toBe(403);
  });
});

describe('OpenAPI', () => {
  it('documents the history, incidents and MTTR endpoints with their schemas', async () => {
    const doc = (await httpCall(gw.url, '/api/docs-json', { auth: null })).body as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/clusters/{cluster}/nodes/{node}/history',
        '/api/v1/incidents',
        '/api/v1/incidents/mttr',
      ]),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['HistoryPage', 'IncidentsResponse', 'MttrResponse']),
    );
  });
});

describe('GET /api/v1/incidents', () => {
  it('lists incidents with start, end, duration and cause, filtered by cluster, open and since', async () => {
    const all = IncidentsResponseSchema.parse((await get('/api/v1/incidents')).body);
    // p1 was added unhealthy: its incident starts at its Ready condition's transition, the oldest.
    expect(all.items.map((i) => [i.cluster, i.node, i.durationMs, i.start])).toEqual([
      ['dev', 'gpu-1', undefined, at(200)],
      ['dev', 'gpu-1', 60_000, at(40)],
      ['dev', 'w1', 20_000, at(10)],
      ['prod', 'p1', undefined, at(0)],
    ]);
    expect(all.items[2]).toMatchObject({ start: at(10), end: at(30), cause: 'Ready=False', pool: 'cpu' });
    // gpu-1's health changed 3 times within the window; the default rule needs 4.
    expect(all.items[0]?.flapping).toBe(false);

    const devOpen = IncidentsResponseSchema.parse(
      (await get('/api/v1/incidents?cluster=dev&open=true')).body,
    );
    expect(devOpen.items.map((i) => i.node)).toEqual(['gpu-1']);
    const closed = IncidentsResponseSchema.parse((await get('/api/v1/incidents?open=false')).body);
    expect(closed.items.map((i) => i.durationMs)).toEqual([60_000, 20_000]);
    const since = IncidentsResponseSchema.parse(
      (await get(`/api/v1/incidents?cluster=dev&since=${encodeURIComponent(at(50))}`)).body,
    );
    expect(since.items.map((i) => i.durationMs)).toEqual([undefined, 60_000]);
    const limited = IncidentsResponseSchema.parse((await get('/api/v1/incidents?limit=1')).body);
    expect(limited).toMatchObject({ truncated: true, items: [{ node: 'gpu-1' }] });
  });

  it('keeps to the token: another cluster named is 403, none named lists only its own', async () => {
    const prodOnly = await token({ clusters: [toClusterName('prod')] });
    expect((await get('/api/v1/incidents?cluster=dev', prodOnly)).status).toBe(403);
    const own = IncidentsResponseSchema.parse((await get('/api/v1/incidents', prodOnly)).body);
    expect(own.items.map((i) => i.cluster)).toEqual(['prod']);
    expect((await get('/api/v1/incidents?cluster=nope')).status).toBe(404);
  });

  it('answers 400 with a JSON body for bad query parameters', async () => {
    for (const query of ['open=yes', 'since=yesterday', 'cluster=Bad_Name', 'limit=0', 'x=1']) {
      const res = await get(`/api/v1/incidents?${query}`);
      expect(res.status, query).toBe(400);
      expect(ErrorBodySchema.parse(res.body).message).toBeTruthy();
    }
    expect((await get('/api/v1/incidents/mttr?until=soon')).status).toBe(400);
  });

  it('MTTR per cluster and pool over a period', async () => {
    const res = await get('/api/v1/incidents/mttr?cluster=dev');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(MttrResponseSchema.parse(res.body).clusters).toEqual([
      {
        cluster: 'dev',
        incidents: 2,
        mttrMs: 40_000,
        pools: [
          { pool: 'cpu', incidents: 1, mttrMs: 20_000 },
          { pool: 'gpu', incidents: 1, mttrMs: 60_000 },
        ],
      },
    ]);
    const before = await get(`/api/v1/incidents/mttr?until=${encodeURIComponent(at(5))}`);
    expect(MttrResponseSchema.parse(before.body).clusters).toEqual([]);
  });
});
