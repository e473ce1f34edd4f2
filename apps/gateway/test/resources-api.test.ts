import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ClusterResourcesResponseSchema,
  ErrorBodySchema,
  NodeListResponseSchema,
  NodePodsListSchema,
  NodeResponseSchema,
  resourcePercent,
  type ClusterName,
  type NodeAllocation,
  type NodePodsResponse,
  type NodeView,
  type UsageSnapshot,
} from '@knm/contracts';
import { NodePodsResponder, type NodeStoreWriter } from '@knm/node-store';
import { toNodeView } from '@knm/node-query';
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
let writer: NodeStoreWriter;
let cluster: ClusterName;
let viewerAll: string;
const closers: (() => Promise<void>)[] = [];

const zone = (z: string) => ({ 'topology.kubernetes.io/zone': z });
const gpuAllocatable = { cpu: '16', memory: '64Gi', pods: '110', 'nvidia.com/gpu': '4' };
const nodes = [
  makeNodeSnapshot('a-1', { labels: { ...zone('a'), 'cloud.google.com/gke-nodepool': 'general' } }),
  makeNodeSnapshot('a-2', { labels: { ...zone('a'), 'cloud.google.com/gke-nodepool': 'general' } }),
  makeNodeSnapshot('b-1', {
    labels: { ...zone('b'), 'karpenter.sh/nodepool': 'gpu' },
    allocatable: gpuAllocatable,
    capacity: gpuAllocatable,
  }),
  makeNodeSnapshot('b-2', { labels: { ...zone('b') } }),
  makeNodeSnapshot('c-1', { labels: {}, allocatable: { pods: '110' } }),
];
const counts = { 'a-1': 10, 'a-2': 4, 'b-1': 7, 'b-2': 1 };
const allocation: Record<string, NodeAllocation> = {
  // allocatable cpu 7800m, memory 30Gi (makeNodeSnapshot)
  'a-1': { requests: { cpu: 7_020, memory: 3 * 2 ** 30 }, limits: { cpu: 15_600, memory: 6 * 2 ** 30 } },
  'a-2': { requests: { cpu: 1_950 }, limits: {} },
  'b-1': { requests: { cpu: 8_000, 'nvidia.com/gpu': 3 }, limits: { 'nvidia.com/gpu': 3 } },
  'b-2': { requests: { cpu: 3_900, memory: 15 * 2 ** 30 }, limits: {} },
};
const usage: UsageSnapshot = {
  available: true,
  polledAt: '2026-12-02T03:00:00.000Z',
  timestamp: '2026-12-02T02:59:55Z',
  window: '15s',
  nodes: { 'a-1': { cpu: 3_900, memory: 2 ** 30 }, 'b-1': { cpu: 1_600, memory: 32 * 2 ** 30 } },
};

function get(path: string, auth: string | null = viewerAll) {
  return httpCall(gw.url, path, { auth });
}

async function expectError(path: string, status: number, message: RegExp, auth?: string): Promise<void> {
  const res = await get(path, auth ?? viewerAll);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  const body = ErrorBodySchema.parse(res.body);
  expect(body.message).toMatch(message);
}

async function list(query: string): Promise<NodeView[]> {
  const res = await get(`/api/v1/clusters/dev/nodes${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return NodeListResponseSchema.parse(res.body).items;
}

const names = async (query: string) => (await list(query)).map((n) => n.name);

beforeEach(async () => {
  redis = await createTestRedis();
  closers.push(() => redis.close());
  ({ writer, cluster } = await seedCluster(redis, 'dev', nodes, counts));
  await writer.applyPodDeltas({}, allocation);
  await writer.setUsage(usage);
  await seedCluster(redis, 'prod', [makeNodeSnapshot('p-1')], { 'p-1': 3 });
  gw = await startGateway(redis, { nodePodsTimeoutMs: 300 });
  closers.unshift(() => gw.close());
  viewerAll = await token();
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('node resources over REST (real Redis, seeded by the writer)', () => {
  it('every node of the list and of the single-node answer carries its resources, with the usage poll', async () => {
    const res = await get('/api/v1/clusters/dev/nodes');
    const body = NodeListResponseSchema.parse(res.body);
    expect(body.usage).toEqual({
      available: true,
      polledAt: usage.polledAt,
      timestamp: usage.timestamp,
      window: '15s',
    });
    const usageOf = (name: string) => (usage.available ? usage.nodes[name] : undefined);
    expect(body.items).toEqual(
      nodes.map((n) =>
        toNodeView(n, counts[n.name as keyof typeof counts] ?? 0, allocation[n.name], usageOf(n.name)),
      ),
    );
    expect(body.items[0]?.resources['cpu']).toEqual({
      allocatable: 7_800,
      requests: 7_020,
      limits: 15_600,
      usage: 3_900,
    });
    expect(body.items[2]?.resources['nvidia.com/gpu']).toEqual({ allocatable: 4, requests: 3, limits: 3 });

    const one = NodeResponseSchema.parse((await get('/api/v1/clusters/dev/nodes/b-1')).body);
    expect(one.node).toEqual(body.items[2]);
    expect(one.usage?.available).toBe(true);
  });

  it('follows allocation and usage writes: a new pod on a node, metrics going away', async () => {
    await writer.applyPodDeltas({ 'c-1': 1 }, { 'c-1': { requests: { cpu: 250 }, limits: {} } });
    await writer.setUsage({
      available: false,
      polledAt: '2026-12-02T03:00:15.000Z',
      reason: 'no metrics API',
    });
    const body = NodeListResponseSchema.parse((await get('/api/v1/clusters/dev/nodes?q=c-1')).body);
    expect(body.items[0]?.resources['cpu']).toEqual({ allocatable: 0, requests: 250, limits: 0 });
    expect(body.items[0]?.resources['pods']).toEqual({ allocatable: 110, requests: 1, limits: 1 });
    expect(body.usage).toEqual({
      available: false,
      polledAt: '2026-12-02T03:00:15.000Z',
      reason: 'no metrics API',
    });
    expect((await list('')).every((n) => n.resources['cpu']?.usage === undefined)).toBe(true);
  });

  it.each([
    // a-1 90%, a-2 25%, b-1 50%, b-2 50%, c-1 no cpu: last either way
    ['sort=cpu.requestsPercent', ['a-2', 'b-1', 'b-2', 'a-1', 'c-1']],
    ['sort=-cpu.requestsPercent', ['a-1', 'b-2', 'b-1', 'a-2', 'c-1']],
    ['sort=cpu.requestsPercent&order=desc', ['a-1', 'b-2', 'b-1', 'a-2', 'c-1']],
    ['sort=-memory.usagePercent', ['b-1', 'a-1', 'c-1', 'b-2', 'a-2']],
    ['sort=-nvidia.com/gpu.requestsPercent', ['b-1', 'c-1', 'b-2', 'a-2', 'a-1']],
    ['resource=cpu.requestsPercent>=50', ['a-1', 'b-1', 'b-2']],
    ['resource=cpu.requestsPercent>50', ['a-1']],
    ['resource=cpu.requestsPercent>=50,memory.requestsPercent<20&sort=name', ['a-1', 'b-1']],
    ['resource=cpu.usagePercent<60&sort=-cpu.usagePercent', ['a-1', 'b-1']],
    ['resource=cpu.limitsPercent>100', ['a-1']],
    [`resource=${encodeURIComponent('nvidia.com/gpu.requestsPercent>50')}`, ['b-1']],
  ])('%s', async (query, expected) => {
    expect(await names(`?${query}`)).toEqual(expected);
  });

  it('pages a resource sort with continue tokens: every node once, in order', async () => {
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const res = await get(
        `/api/v1/clusters/dev/nodes?sort=-cpu.requestsPercent&limit=2${next ? `&continue=${encodeURIComponent(next)}` : ''}`,
      );
      const page = NodeListResponseSchema.parse(res.body);
      seen.push(...page.items.map((n) => n.name));
      next = page.continue;
    } while (next);
    expect(seen).toEqual(['a-1', 'b-2', 'b-1', 'a-2', 'c-1']);
  });

  it.each([
    ['sort=cpu.requested', 'sort', /must be one of name, age, .* or <resource>.requestsPercent/],
    ['sort=bad%20name.requestsPercent', 'sort', /resource "bad name"/],
    [
      'resource=cpu.requestsPercent',
      'resource',
      /must be <resource>.* followed by >, >=, < or <= and a number/,
    ],
    ['resource=cpu.requestsPercent%3Elots', 'resource', /"lots" is not a number/],
    [
      'resource=cpu.requests%3E5',
      'resource',
      /must be <resource>.requestsPercent, .limitsPercent or .usagePercent/,
    ],
    ['resource=', 'resource', /resource must not be empty/],
  ])('%s is a 400 saying what is wrong', async (query, path, message) => {
    const res = await get(`/api/v1/clusters/dev/nodes?${query}`);
    expect(res.status).toBe(400);
    const body = ErrorBodySchema.parse(res.body);
    expect(body.details?.[0]?.path).toBe(path);
    expect(body.details?.[0]?.message).toMatch(message);
  });

  it('sums the cluster, by zone and by node pool, usage over the measured nodes', async () => {
    const res = await get('/api/v1/clusters/dev/resources');
    expect(res.status).toBe(200);
    const body = ClusterResourcesResponseSchema.parse(res.body);
    expect(body.cluster).toBe('dev');
    expect(body.totals.nodes).toBe(5);
    expect(body.totals.measured).toBe(2);
    expect(body.totals.resources['cpu']).toEqual({
      allocatable: 3 * 7_800 + 16_000, // c-1 offers no cpu
      requests: 7_020 + 1_950 + 8_000 + 3_900,
      limits: 15_600,
      usage: 3_900 + 1_600,
    });
    expect(body.totals.resources['pods']).toEqual({ allocatable: 550, requests: 22, limits: 22 });
    expect(body.zones.map((g) => [g.name, g.nodes, g.resources['cpu']?.requests])).toEqual([
      ['a', 2, 8_970],
      ['b', 2, 11_900],
      // c-1 offers no cpu and its pods request none: no cpu entry at all.
      ['none', 1, undefined],
    ]);
    expect(body.pools.map((g) => [g.name, g.nodes])).toEqual([
      ['general', 2],
      ['gpu', 1],
      ['none', 2],
    ]);
    expect(body.usage).toMatchObject({ available: true, polledAt: usage.polledAt });
    expect(resourcePercent(body.totals.resources['nvidia.com/gpu'], 'requests')).toBe(75);
  });

  it('keeps the token to its clusters (403 before anything is read) and 404s an unknown cluster', async () => {
    const devOnly = await token({ clusters: ['dev' as never] });
    await expectError('/api/v1/clusters/prod/resources', 403, /prod/, devOnly);
    await expectError('/api/v1/clusters/prod/nodes/p-1/pods', 403, /prod/, devOnly);
    await expectError('/api/v1/clusters/nope/resources', 404, /not registered/);
  });
});

describe("the pods behind a node's numbers", () => {
  const answer = (node: string): NodePodsResponse => ({
    ok: true,
    node,
    fetchedAt: '2026-12-02T03:00:00.000Z',
    truncated: false,
    usageAvailable: true,
    items: [
      {
        namespace: 'shop',
        name: `web-${node}`,
        uid: `uid-web-${node}`,
        phase: 'Running',
        owner: { kind: 'ReplicaSet', name: 'web-7d9f' },
        requests: { cpu: 500, memory: 2 ** 28 },
        limits: { cpu: 1_000 },
        usage: { cpu: 120, memory: 2 ** 27 },
        counted: true,
      },
    ],
  });

  it('503 with a clear message when no watcher leads the cluster', async () => {
    await expectError('/api/v1/clusters/dev/nodes/a-1/pods', 503, /no watcher leads cluster "dev"/);
  });

  it("relays to the leading watcher and serves its answer as it stored it; the watcher's 404 stays a 404", async () => {
    const subscriber = redis.client.duplicate();
    closers.unshift(async () => void subscriber.disconnect());
    const asked: string[] = [];
    const responder = new NodePodsResponder(subscriber, redis.keyspace, cluster, writer, async (node) => {
      asked.push(node);
      if (node === 'gone') {
        return {
          ok: false,
          node,
          fetchedAt: '2026-12-02T03:00:00.000Z',
          status: 404,
          message: 'node "gone" not found',
        };
      }
      return answer(node);
    });
    await responder.start();
    closers.unshift(() => responder.stop());

    const res = await get('/api/v1/clusters/dev/nodes/a-1/pods');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(NodePodsListSchema.parse(res.body)).toEqual(answer('a-1'));
    // Stored for a few seconds: the next request is served from Redis, the watcher is not asked again.
    expect((await get('/api/v1/clusters/dev/nodes/a-1/pods')).body).toEqual(answer('a-1'));
    expect(asked).toEqual(['a-1']);
    await expectError('/api/v1/clusters/dev/nodes/gone/pods', 404, /node "gone" not found/);
  });

  it('504 when the watcher does not answer in time; 400 for a malformed node name', async () => {
    // Something listens on the requests channel but never answers.
    const deaf = redis.client.duplicate();
    closers.unshift(async () => void deaf.disconnect());
    await deaf.subscribe(redis.keyspace.cluster(cluster).podsRequests);
    await expectError('/api/v1/clusters/dev/nodes/a-2/pods', 504, /did not answer within 300 ms/);
    await expectError(`/api/v1/clusters/dev/nodes/${'x'.repeat(10)}%20y/pods`, 400, /node name/);
  });
});
