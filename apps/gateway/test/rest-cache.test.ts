import { request as httpRequest } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { purgeClusterKeys } from '@knm/cluster-connections';
import {
  ErrorBodySchema,
  FleetNodeListResponseSchema,
  NodeListResponseSchema,
  NodeResponseSchema,
  PodCountsResponseSchema,
  toClusterName,
} from '@knm/contracts';
import { LeaderLease } from '@knm/node-store';
import { createTestRedis, makeNodeSnapshot, waitFor, type TestRedis } from '@knm/testing';
import { seedCluster, startGateway, token, type RunningGateway } from './support/gateway-harness.js';

/**
 * The cached REST answers (node lists, a node, pod counts, resources, the fleet
 * list) against a real gateway and Redis: entity tags that change with every state,
 * 304s, content codings, and the token's scope checked before any of it. Raw
 * node:http requests: fetch would decode the body and add its own Accept-Encoding.
 */

let redis: TestRedis;
let gw: RunningGateway;
let viewer: string;
const closers: (() => Promise<void>)[] = [];

const nodes = Array.from({ length: 40 }, (_, i) =>
  makeNodeSnapshot(`worker-${String(i).padStart(2, '0')}`, { labels: { zone: i % 2 ? 'a' : 'b' } }),
);
const pods = Object.fromEntries(nodes.map((n, i) => [n.name, i]));

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The bytes as sent (still coded). */
  raw: Buffer;
}

function get(path: string, headers: Record<string, string> = {}, base = gw.url): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      { headers: { authorization: `Bearer ${viewer}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function decoded(answer: RawAnswer): unknown {
  const coding = answer.headers['content-encoding'];
  const bytes =
    coding === 'gzip'
      ? gunzipSync(answer.raw)
      : coding === 'br'
        ? brotliDecompressSync(answer.raw)
        : answer.raw;
  return JSON.parse(bytes.toString('utf8')) as unknown;
}

const etagOf = (answer: RawAnswer) => String(answer.headers['etag']);

beforeEach(async () => {
  redis = await createTestRedis();
  closers.push(() => redis.close());
  gw = await startGateway(redis);
  closers.unshift(() => gw.close());
  viewer = await token();
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('entity tags and 304', () => {
  const routes = [
    ['node list', '/api/v1/clusters/dev/nodes?limit=10'],
    ['legacy node list', '/api/v1/nodes?cluster_name=dev&limit=10'],
    ['single node', '/api/v1/clusters/dev/nodes/worker-01'],
    ['pod counts', '/api/v1/clusters/dev/pod-counts'],
    ['resources', '/api/v1/clusters/dev/resources'],
    ['fleet list', '/api/v1/nodes?limit=10'],
  ] as const;

  it.each(routes)(
    '%s: a 304 with no body while the cluster has not moved, a 200 with another tag after every write',
    async (_name, path) => {
      const { writer } = await seedCluster(redis, 'dev', nodes, pods);
      const first = await get(path);
      expect(first.status).toBe(200);
      expect(first.headers['vary']).toMatch(/accept-encoding/i);
      expect(first.headers['cache-control']).toBe('private, no-cache');
      const tag = etagOf(first);
      expect(tag).toMatch(/^"[^"]+"$/);

      const again = await get(path, { 'if-none-match': tag });
      expect(again.status).toBe(304);
      expect(again.raw.length).toBe(0);
      expect(etagOf(again)).toBe(tag);
      expect(again.headers['vary']).toMatch(/accept-encoding/i);
      // Weak comparison (a proxy may weaken the tag), and a list.
      expect((await get(path, { 'if-none-match': `W/${tag}` })).status).toBe(304);
      expect((await get(path, { 'if-none-match': `"other", ${tag}` })).status).toBe(304);
      expect((await get(path, { 'if-none-match': '"other"' })).status).toBe(200);

      let previous = tag;
      // Every kind of write moves the seq: a node changed, pod counts changed (none of them on worker-01's row).
      for (const write of [
        () =>
          writer.applyNodeChanges([
            {
              type: 'node_update',
              node: makeNodeSnapshot('worker-09', { labels: { zone: 'c' } }),
              changes: ['labels'],
            },
          ]),
        () => writer.applyPodDeltas({ 'worker-07': 1 }),
      ]) {
        await write();
        const after = await get(path, { 'if-none-match': previous });
        expect(after.status).toBe(200);
        expect(etagOf(after)).not.toBe(previous);
        previous = etagOf(after);
        expect((await get(path, { 'if-none-match': previous })).status).toBe(304);
      }
    },
  );

  it('a new leader’s epoch changes every tag, even when it writes nothing', async () => {
    const { cluster } = await seedCluster(redis, 'dev', nodes, pods);
    const before = await get('/api/v1/clusters/dev/pod-counts');
    const lease = new LeaderLease(redis.client, redis.keyspace, cluster, 'next-leader', { ttlMs: 60_000 });
    closers.unshift(() => lease.release());
    await lease.acquire();
    const after = await get('/api/v1/clusters/dev/pod-counts', { 'if-none-match': etagOf(before) });
    expect(after.status).toBe(200);
    expect(PodCountsResponseSchema.parse(decoded(after)).seq).toBe(
      PodCountsResponseSchema.parse(decoded(before)).seq,
    );
    expect(etagOf(after)).not.toBe(etagOf(before));
  });

  it('a cluster removed and added again (epoch and seq start over) never revalidates an answer of its old life', async () => {
    await seedCluster(redis, 'dev', nodes, pods);
    const before = await get('/api/v1/clusters/dev/nodes?limit=5');
    const seq = NodeListResponseSchema.parse(decoded(before)).seq;
    await purgeClusterKeys(redis.client, redis.keyspace, toClusterName('dev'));
    const other = nodes.map((n) => makeNodeSnapshot(n.name, { labels: { life: 'second' } }));
    // registeredAt is to the millisecond: the new life must start in another one.
    const start = Date.now();
    while (Date.now() === start) await new Promise<void>((resolve) => setImmediate(resolve));
    await seedCluster(redis, 'dev', other, pods);
    const after = await get('/api/v1/clusters/dev/nodes?limit=5', { 'if-none-match': etagOf(before) });
    expect(after.status).toBe(200);
    const body = NodeListResponseSchema.parse(decoded(after));
    expect(body.seq).toBe(seq);
    expect(body.items[0]?.labels['life']).toBe('second');
    expect(etagOf(after)).not.toBe(etagOf(before));
  });

  it('every gateway gives the same state the same tag: a client revalidates against any replica', async () => {
    await seedCluster(redis, 'dev', nodes, pods);
    const other = await startGateway(redis);
    closers.unshift(() => other.close());
    const first = await get('/api/v1/clusters/dev/nodes?limit=10', { 'accept-encoding': 'gzip' });
    const there = await get(
      '/api/v1/clusters/dev/nodes?limit=10',
      { 'accept-encoding': 'gzip', 'if-none-match': etagOf(first) },
      other.url,
    );
    expect(there.status).toBe(304);
  });

  it('never revalidates an answer older than the seq at the time of the request, under concurrent writes', async () => {
    const { writer } = await seedCluster(redis, 'dev', nodes, pods);
    const metaKey = redis.keyspace.cluster(toClusterName('dev')).meta;
    let tag = etagOf(await get('/api/v1/clusters/dev/pod-counts'));
    for (let i = 1; i <= 20; i++) {
      await writer.applyPodDeltas({ 'worker-03': 1 });
      const seqBefore = Number(await redis.client.hget(metaKey, 'seq'));
      const answer = await get('/api/v1/clusters/dev/pod-counts', { 'if-none-match': tag });
      expect(answer.status).toBe(200);
      const body = PodCountsResponseSchema.parse(decoded(answer));
      expect(body.seq).toBeGreaterThanOrEqual(seqBefore);
      expect(body.counts['worker-03']).toBe(3 + i);
      tag = etagOf(answer);
    }
  });
});

describe('content codings', () => {
  it('compresses once per state in the coding the client prefers, with its own tag, and respects q-values', async () => {
    await seedCluster(redis, 'dev', nodes, pods);
    const path = '/api/v1/clusters/dev/nodes';
    const identity = await get(path, { 'accept-encoding': 'identity' });
    expect(identity.headers['content-encoding']).toBeUndefined();
    const plain = NodeListResponseSchema.parse(JSON.parse(identity.raw.toString('utf8')));
    expect(plain.items).toHaveLength(40);

    for (const [accept, coding] of [
      ['gzip, deflate, br', 'br'],
      ['gzip', 'gzip'],
      ['br;q=0.4, gzip;q=0.9', 'gzip'],
      ['gzip;q=0.5, identity', undefined],
      ['*', 'br'],
      ['br;q=0, gzip;q=0', undefined],
    ] as const) {
      const answer = await get(path, { 'accept-encoding': accept });
      expect(answer.status, accept).toBe(200);
      expect(answer.headers['content-encoding'], accept).toBe(coding);
      expect(decoded(answer), accept).toEqual(plain);
      if (coding) {
        expect(answer.raw.length).toBeLessThan(identity.raw.length / 3);
        expect(etagOf(answer)).toBe(`${etagOf(identity).slice(0, -1)}-${coding}"`);
        // The same coded bytes again (cached), revalidated by their own tag.
        expect((await get(path, { 'accept-encoding': accept })).raw.equals(answer.raw)).toBe(true);
        expect((await get(path, { 'accept-encoding': accept, 'if-none-match': etagOf(answer) })).status).toBe(
          304,
        );
      }
    }
  });

  it('compresses a large answer behind: identity at once, the coded bytes once ready (unless identity is refused)', async () => {
    const many = Array.from({ length: 400 }, (_, i) =>
      makeNodeSnapshot(`big-${String(i).padStart(3, '0')}`, { labels: { zone: `zone-${i % 7}` } }),
    );
    await seedCluster(redis, 'dev', many, {});
    const path = '/api/v1/clusters/dev/nodes';
    const first = await get(path, { 'accept-encoding': 'gzip' });
    expect(first.raw.length).toBeGreaterThanOrEqual(256 * 1024);
    expect(first.headers['content-encoding']).toBeUndefined();
    expect(etagOf(first)).not.toMatch(/-gzip"$/);
    const coded = await waitFor(
      async () => {
        const answer = await get(path, { 'accept-encoding': 'gzip' });
        return answer.headers['content-encoding'] === 'gzip' ? answer : undefined;
      },
      { what: 'the gzip bytes of the list' },
    );
    expect(decoded(coded)).toEqual(decoded(first));
    expect(etagOf(coded)).toBe(`${etagOf(first).slice(0, -1)}-gzip"`);
    // A client that refuses identity waits for brotli instead.
    const br = await get(path, { 'accept-encoding': 'br, identity;q=0' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(decoded(br)).toEqual(decoded(first));
  });

  it('sends small answers uncompressed whatever the client accepts, and revalidates them', async () => {
    await seedCluster(redis, 'dev', [makeNodeSnapshot('tiny')], { tiny: 1 });
    const answer = await get('/api/v1/clusters/dev/pod-counts', { 'accept-encoding': 'gzip' });
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(PodCountsResponseSchema.parse(decoded(answer)).total).toBe(1);
    expect(
      (
        await get('/api/v1/clusters/dev/pod-counts', {
          'accept-encoding': 'gzip',
          'if-none-match': etagOf(answer),
        })
      ).status,
    ).toBe(304);
  });

  it('406 with a JSON error when identity is refused and neither br nor gzip is accepted', async () => {
    await seedCluster(redis, 'dev', nodes, pods);
    const answer = await get('/api/v1/clusters/dev/nodes', { 'accept-encoding': 'deflate, identity;q=0' });
    expect(answer.status).toBe(406);
    const body = ErrorBodySchema.parse(JSON.parse(answer.raw.toString('utf8')));
    expect(body).toMatchObject({ statusCode: 406, error: 'Not Acceptable' });
    expect(body.message).toMatch(/accepts neither br nor gzip/);
  });
});

describe('scope', () => {
  it('checks the token before any cached answer or 304: another cluster is a 403, whatever the tags', async () => {
    await seedCluster(redis, 'dev', nodes, pods);
    await seedCluster(redis, 'prod', [makeNodeSnapshot('p-1')], { 'p-1': 3 });
    const prod = await get('/api/v1/clusters/prod/nodes');
    viewer = await token({ clusters: [toClusterName('dev')] });
    for (const inm of ['*', etagOf(prod)]) {
      const refused = await get('/api/v1/clusters/prod/nodes', { 'if-none-match': inm });
      expect(refused.status).toBe(403);
      expect(ErrorBodySchema.parse(JSON.parse(refused.raw.toString('utf8'))).statusCode).toBe(403);
    }
    expect((await get('/api/v1/clusters/dev/nodes/worker-01', { 'if-none-match': '*' })).status).toBe(304);
  });

  it('the fleet list of a narrower token is another body and another tag', async () => {
    await seedCluster(redis, 'dev', nodes, pods);
    await seedCluster(redis, 'prod', [makeNodeSnapshot('p-1')], { 'p-1': 3 });
    const all = await get('/api/v1/nodes?limit=100', { 'accept-encoding': 'gzip' });
    expect(FleetNodeListResponseSchema.parse(decoded(all)).clusters.map((c) => c.name)).toEqual([
      'dev',
      'prod',
    ]);
    viewer = await token({ clusters: [toClusterName('dev')] });
    const narrow = await get('/api/v1/nodes?limit=100', {
      'accept-encoding': 'gzip',
      'if-none-match': etagOf(all),
    });
    expect(narrow.status).toBe(200);
    const body = FleetNodeListResponseSchema.parse(decoded(narrow));
    expect(body.clusters.map((c) => c.name)).toEqual(['dev']);
    expect(body.items.every((n) => n.cluster === 'dev')).toBe(true);
    expect(etagOf(narrow)).not.toBe(etagOf(all));
  });

  it('a node that does not exist is a 404 JSON error, not a cached answer', async () => {
    await seedCluster(redis, 'dev', nodes, pods);
    await get('/api/v1/clusters/dev/nodes'); // the snapshot is cached: the node is looked up in it
    for (const path of ['/api/v1/clusters/dev/nodes/nope', '/api/v1/clusters/nope/nodes/worker-01']) {
      const missing = await get(path, { 'if-none-match': '*' });
      expect(missing.status, path).toBe(404);
      expect(ErrorBodySchema.parse(JSON.parse(missing.raw.toString('utf8'))).statusCode).toBe(404);
    }
    const found = NodeResponseSchema.parse(decoded(await get('/api/v1/clusters/dev/nodes/worker-02')));
    expect(found.node.podCount).toBe(2);
  });
});

describe('OpenAPI', () => {
  it('documents the conditional headers, the 304 and the 406 of every cached answer', async () => {
    const answer = await get('/api/docs-json');
    const doc = JSON.parse(answer.raw.toString('utf8')) as {
      paths: Record<string, { get: { parameters: { name: string }[]; responses: Record<string, unknown> } }>;
    };
    for (const path of [
      '/api/v1/clusters/{cluster}/nodes',
      '/api/v1/clusters/{cluster}/nodes/{node}',
      '/api/v1/clusters/{cluster}/pod-counts',
      '/api/v1/clusters/{cluster}/resources',
      '/api/v1/nodes',
    ]) {
      const operation = doc.paths[path]?.get;
      expect(Object.keys(operation?.responses ?? {}), path).toEqual(
        expect.arrayContaining(['200', '304', '406']),
      );
      expect(
        operation?.parameters.map((p) => p.name),
        path,
      ).toEqual(expect.arrayContaining(['If-None-Match', 'Accept-Encoding']));
    }
  });
});
