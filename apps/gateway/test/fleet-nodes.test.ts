import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ErrorBodySchema,
  FleetNodeListResponseSchema,
  NodeListResponseSchema,
  toClusterName,
  type ClusterName,
  type FleetNodeListResponse,
  type NodeAllocation,
  type UsageSnapshot,
} from '@knm/contracts';
import { KnmApiError, RestClient } from '@knm/client';
import { NodeStoreWriter } from '@knm/node-store';
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
let all: string;
const closers: (() => Promise<void>)[] = [];

const zone = (z: string) => ({ 'topology.kubernetes.io/zone': z });
// makeNodeSnapshot: allocatable cpu 7800m, memory 30Gi, pods 110.
const fleet = {
  alpha: {
    nodes: [
      makeNodeSnapshot('a-1', { labels: zone('x') }),
      makeNodeSnapshot('a-2', { labels: zone('y') }),
      makeNodeSnapshot('shared', { labels: zone('x'), ready: 'False' }),
    ],
    pods: { 'a-1': 5, 'a-2': 1, shared: 3 },
  },
  beta: {
    nodes: [
      makeNodeSnapshot('b-1', { labels: zone('x') }),
      makeNodeSnapshot('shared', { labels: zone('y') }),
    ],
    pods: { 'b-1': 3, shared: 9 },
  },
  gamma: {
    nodes: [makeNodeSnapshot('c-1', { labels: zone('x') }), makeNodeSnapshot('c-2', { labels: zone('x') })],
    pods: { 'c-1': 7, 'c-2': 2 },
  },
} as const;
const alphaAllocation: Record<string, NodeAllocation> = {
  'a-1': { requests: { cpu: 3_900 }, limits: { cpu: 7_800 } },
  'a-2': { requests: { cpu: 7_020 }, limits: {} },
};
const betaUsage: UsageSnapshot = {
  available: true,
  polledAt: '2026-12-02T03:00:00.000Z',
  window: '15s',
  nodes: { 'b-1': { cpu: 1_000, memory: 2 ** 30 }, shared: { cpu: 500, memory: 2 ** 29 } },
};

function get(path: string, auth: string = all) {
  return httpCall(gw.url, path, { auth });
}

async function fleetPage(query: string, auth: string = all): Promise<FleetNodeListResponse> {
  const res = await get(`/api/v1/nodes${query}`, auth);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return FleetNodeListResponseSchema.parse(res.body);
}

const ids = (body: FleetNodeListResponse) => body.items.map((n) => `${n.cluster}/${n.name}`);

/** Every page of a continue walk as `cluster/node` ids, checking `total` stays what the first page said. */
async function walk(query: string, auth: string = all): Promise<string[]> {
  const seen: string[] = [];
  let next: string | undefined;
  let total: number | undefined;
  do {
    const body = await fleetPage(`${query}${next ? `&continue=${next}` : ''}`, auth);
    total ??= body.total;
    expect(body.total).toBe(total);
    seen.push(...ids(body));
    next = body.continue;
  } while (next);
  expect(seen).toHaveLength(total);
  return seen;
}

/** A cluster registered by a watcher that has not listed it yet (status `syncing`, no nodes). */
async function registerOnly(name: string): Promise<ClusterName> {
  const cluster = toClusterName(name);
  const epoch = await redis.client.incr(redis.keyspace.cluster(cluster).epoch);
  await new NodeStoreWriter(redis.client, redis.keyspace, cluster, epoch, 'test-writer').register({});
  return cluster;
}

beforeEach(async () => {
  redis = await createTestRedis();
  closers.push(() => redis.close());
  const alpha = await seedCluster(redis, 'alpha', fleet.alpha.nodes, fleet.alpha.pods);
  await alpha.writer.applyPodDeltas({}, alphaAllocation);
  const beta = await seedCluster(redis, 'beta', fleet.beta.nodes, fleet.beta.pods);
  await beta.writer.setUsage(betaUsage);
  const gamma = await seedCluster(redis, 'gamma', fleet.gamma.nodes, fleet.gamma.pods);
  await gamma.writer.setStatus('degraded', 'the API server does not answer');
  await registerOnly('delta');
  gw = await startGateway(redis);
  closers.unshift(() => gw.close());
  all = await token();
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('GET /api/v1/nodes without cluster_name: the fleet list (real Redis, real gateway)', () => {
  it('lists every node of every cluster with its cluster, each cluster with its status and counts, and fleet totals', async () => {
    const body = await fleetPage('');
    expect(ids(body)).toEqual([
      'alpha/a-1',
      'alpha/a-2',
      'beta/b-1',
      'gamma/c-1',
      'gamma/c-2',
      'alpha/shared',
      'beta/shared',
    ]);
    expect(body.total).toBe(7);
    expect(body.continue).toBeUndefined();
    expect(body.items.find((n) => n.cluster === 'beta' && n.name === 'shared')).toMatchObject({
      podCount: 9,
      resources: { cpu: { usage: 500 } },
    });
    expect(
      body.clusters.map(({ name, status, nodes, matching }) => ({ name, status, nodes, matching })),
    ).toEqual([
      { name: 'alpha', status: 'ready', nodes: 3, matching: 3 },
      { name: 'beta', status: 'ready', nodes: 2, matching: 2 },
      // Not ready: its last known nodes are listed, and it says so.
      { name: 'delta', status: 'syncing', nodes: 0, matching: 0 },
      { name: 'gamma', status: 'degraded', nodes: 2, matching: 2 },
    ]);
    expect(body.totals.nodes).toBe(7);
    expect(body.totals.measured).toBe(2);
    expect(body.totals.resources['cpu']).toEqual({
      allocatable: 7 * 7_800,
      requests: 3_900 + 7_020,
      limits: 7_800,
      usage: 1_500,
    });
    expect(body.totals.resources['pods']).toMatchObject({ allocatable: 7 * 110, requests: 30 });
  });

  it('the fleet totals equal the sum of each cluster’s /resources totals', async () => {
    const body = await fleetPage('?limit=1');
    let cpuRequests = 0;
    let nodes = 0;
    for (const name of ['alpha', 'beta', 'gamma']) {
      const res = await get(`/api/v1/clusters/${name}/resources`);
      const totals = (
        res.body as { totals: { nodes: number; resources: Record<string, { requests: number }> } }
      ).totals;
      nodes += totals.nodes;
      cpuRequests += totals.resources['cpu']?.requests ?? 0;
    }
    expect(body.totals.nodes).toBe(nodes);
    expect(body.totals.resources['cpu']?.requests).toBe(cpuRequests);
  });

  it('shows a token only the clusters it covers: a token for [alpha, beta] never sees gamma', async () => {
    const ab = await token({ clusters: ['alpha' as never, 'beta' as never] });
    const body = await fleetPage('', ab);
    expect(new Set(body.items.map((n) => n.cluster))).toEqual(new Set(['alpha', 'beta']));
    expect(body.clusters.map((c) => c.name)).toEqual(['alpha', 'beta']);
    expect(body.total).toBe(5);
    expect(body.totals.nodes).toBe(5);
    expect(JSON.stringify(body)).not.toContain('gamma');
    // A continue token of a wider listing still lists only what this token covers.
    const wide = await fleetPage('?sort=name&limit=1');
    const rest = await fleetPage(`?sort=name&limit=10&continue=${wide.continue}`, ab);
    expect(rest.items.every((n) => n.cluster === 'alpha' || n.cluster === 'beta')).toBe(true);
    // cluster_name keeps the per-cluster route and its 403.
    const forbidden = await get('/api/v1/nodes?cluster_name=gamma', ab);
    expect(forbidden.status).toBe(403);
  });

  it.each([
    [
      '?sort=-pods',
      ['beta/shared', 'gamma/c-1', 'alpha/a-1', 'beta/b-1', 'alpha/shared', 'gamma/c-2', 'alpha/a-2'],
    ],
    [
      '?sort=pods&labelSelector=topology.kubernetes.io%2Fzone%3Dx&ready=true',
      ['gamma/c-2', 'beta/b-1', 'alpha/a-1', 'gamma/c-1'],
    ],
    // Ties on the sort key break by cluster, then node name, in the sort's direction (here: every node without requests has 0%).
    [
      '?sort=-cpu.requestsPercent',
      ['alpha/a-2', 'alpha/a-1', 'gamma/c-2', 'gamma/c-1', 'beta/shared', 'beta/b-1', 'alpha/shared'],
    ],
    ['?resource=cpu.requestsPercent%3E40', ['alpha/a-1', 'alpha/a-2']],
    ['?q=shared&sort=name&order=desc', ['beta/shared', 'alpha/shared']],
  ])('filters and sorts across clusters: %s', async (query, expected) => {
    const body = await fleetPage(query);
    expect(ids(body)).toEqual(expected);
    expect(body.total).toBe(expected.length);
    expect(body.clusters.reduce((sum, c) => sum + c.matching, 0)).toBe(expected.length);
  });

  it('pages with a continue token that spans clusters: every node exactly once, in the one-page order', async () => {
    for (const query of ['?sort=name', '?sort=-pods', '?sort=-cpu.requestsPercent', '?ready=true&sort=age']) {
      const whole = ids(await fleetPage(query));
      for (const limit of [1, 2, 3]) {
        const seen = await walk(`${query}&limit=${limit}`);
        expect(seen).toEqual(whole);
      }
    }
  });

  it('answers 410 when a cluster of the token was rebuilt since, 400 for a bad token or query', async () => {
    const first = await fleetPage('?sort=pods&limit=2');
    expect(first.continue).toBeDefined();
    await seedCluster(redis, 'beta', fleet.beta.nodes, fleet.beta.pods);
    const stale = await get(`/api/v1/nodes?sort=pods&limit=2&continue=${first.continue}`);
    expect(stale.status, JSON.stringify(stale.body)).toBe(410);
    expect(ErrorBodySchema.parse(stale.body).message).toMatch(/"beta" was resynced/);

    const fresh = await fleetPage('?sort=pods&limit=2');
    for (const [path, field] of [
      [`?sort=-pods&limit=2&continue=${fresh.continue}`, 'continue'],
      [`?sort=pods&limit=2&continue=${fresh.continue}x`, 'continue'],
      ['?continue=garbage', 'continue'],
      ['?sort=cpu', 'sort'],
      ['?limit=0', 'limit'],
      ['?labelSelector=zone%20in%20(a', 'labelSelector'],
      ['?color=red', ''],
      ['?cluster_name=Not_A_Name', 'cluster_name'],
    ] as const) {
      const res = await get(`/api/v1/nodes${path}`);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(ErrorBodySchema.parse(res.body).details?.map((d) => d.path)).toContain(field);
    }
    // A cluster list's token is not a fleet token, and the other way round.
    const perCluster = NodeListResponseSchema.parse((await get('/api/v1/clusters/alpha/nodes?limit=1')).body);
    expect((await get(`/api/v1/nodes?limit=1&continue=${perCluster.continue}`)).status).toBe(400);
    expect(
      (await get(`/api/v1/clusters/alpha/nodes?sort=pods&limit=2&continue=${fresh.continue}`)).status,
    ).toBe(400);
  });

  it('reports a cluster that cannot be read in `clusters` with its error and still lists the others (never a 500)', async () => {
    const broken = await registerOnly('broken');
    // A key of the wrong type: every read of the cluster's nodes fails (WRONGTYPE).
    await redis.client.set(redis.keyspace.cluster(broken).nodes, 'not a hash');
    const body = await fleetPage('?sort=name');
    expect(body.total).toBe(7);
    expect(body.clusters.find((c) => c.name === 'broken')).toMatchObject({
      nodes: 0,
      matching: 0,
      error: expect.stringMatching(/could not be read/),
    });
    expect(body.totals.nodes).toBe(7);
  });

  it('keeps the per-cluster answer with cluster_name', async () => {
    const res = await get('/api/v1/nodes?cluster_name=beta&sort=-pods');
    expect(res.status).toBe(200);
    const body = NodeListResponseSchema.parse(res.body);
    expect(body.cluster).toBe('beta');
    expect(body.items.map((n) => n.name)).toEqual(['shared', 'b-1']);
  });

  it('the SDK reads a page and walks every page (RestClient.listFleetNodes, fleetNodePages)', async () => {
    const rest = new RestClient({ urls: [gw.url], token: all });
    const whole = await rest.listFleetNodes({ sort: '-pods' });
    expect(whole.total).toBe(7);
    const walked: string[] = [];
    let pages = 0;
    for await (const page of rest.fleetNodePages({ sort: '-pods', limit: 3 })) {
      pages += 1;
      walked.push(...ids(page));
    }
    expect(pages).toBe(3);
    expect(walked).toEqual(ids(whole));

    const ab = new RestClient({ urls: [gw.url], token: await token({ clusters: ['alpha' as never] }) });
    expect((await ab.listFleetNodes()).items.map((n) => n.cluster)).toEqual(['alpha', 'alpha', 'alpha']);

    const pagesOf = rest.fleetNodePages({ sort: 'name', limit: 2 });
    await pagesOf.next();
    await seedCluster(redis, 'alpha', fleet.alpha.nodes, fleet.alpha.pods);
    const failure = await pagesOf.next().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(KnmApiError);
    expect((failure as KnmApiError).status).toBe(410);
  });
});
