import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeNodeSnapshot,
  redisServerSuiteRuns,
  requireRedisServer,
  startRedisCluster,
  waitFor,
  type LocalRedisCluster,
} from '@knm/testing';
import { Keyspace, toClusterName, type Envelope } from '@knm/contracts';
import {
  ChangeSubscriber,
  createRedisConnection,
  FencedError,
  LeaderLease,
  NodePodsClient,
  NodePodsResponder,
  NodeStoreReader,
  NodeStoreWriter,
  redisPubSubMode,
  type PubSubMode,
  type RedisClient,
} from '../src/index.js';

// Clusters whose hash tags land on different shards of a 3-master cluster (slots 0-5460, 5461-10922, 10923-16383).
const names = ['dev', 'prod', 'staging', 'edge', 'lab'].map(toClusterName);

// In CI (CI=true) the suite runs even without redis-server, and fails: CI installs it.
const withRedisServer = redisServerSuiteRuns();

describe.skipIf(!withRedisServer)('on a Redis Cluster (3 masters, real redis-server processes)', () => {
  let rc: LocalRedisCluster;
  const keyspace = new Keyspace('knmc');

  beforeAll(async () => {
    rc = await startRedisCluster(3);
  }, 60_000);
  afterAll(async () => rc?.close());

  // A test, not a hook: in CI a missing redis-server counts as a failure in the summary, not as skips.
  it('redis-server is installed (.ci/run installs it)', () => requireRedisServer());

  it('the clusters under test really live on different shards', async () => {
    const client = rc.connect();
    const slots = await Promise.all(
      names.map(async (n) => Number(await client.cluster('KEYSLOT', keyspace.cluster(n).meta))),
    );
    const shard = (slot: number) => (slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2);
    expect(new Set(slots.map(shard)).size).toBeGreaterThan(1);
  });

  it.each<PubSubMode>(['classic', 'sharded'])(
    'lease, every write, reads, replay and the %s change feed work, for clusters on every shard',
    async (pubsub) => {
      const keyspace = new Keyspace(`knmc-${pubsub}`);
      const client = rc.connect();
      const received: Envelope[] = [];
      const invalid: string[] = [];
      const changes = new ChangeSubscriber(
        rc.connect({ shardedSubscribers: pubsub === 'sharded' }),
        keyspace,
        {
          pubsub,
          onInvalid: (raw) => invalid.push(raw),
        },
      );
      changes.onEnvelope((e) => received.push(e));
      const reader = new NodeStoreReader(client, keyspace);
      for (const name of names) await changes.subscribe(name);

      for (const name of names) {
        const lease = new LeaderLease(client, keyspace, name, `w-${name}`, { ttlMs: 5_000 });
        const epoch = await lease.acquire();
        const writer = new NodeStoreWriter(client, keyspace, name, epoch, `w-${name}`, { pubsub });
        await writer.register({ server: `https://${name}` });
        await writer.setStatus('syncing');
        const nodes = Array.from({ length: 600 }, (_, i) => makeNodeSnapshot(`${name}-${i}`));
        expect(await writer.rebuild({ nodes, podCounts: { [`${name}-0`]: 3 }, reason: 'rebuild' })).toBe(2);
        expect(await writer.applyNodeChanges([{ type: 'node_delete', name: `${name}-1`, uid: 'u' }])).toBe(3);
        const allocation = { requests: { cpu: 400, memory: 2 ** 30 }, limits: { memory: 2 ** 31 } };
        expect(
          await writer.applyPodDeltas({ [`${name}-0`]: -1, [`${name}-2`]: 4 }, { [`${name}-2`]: allocation }),
        ).toBe(5);
        const usage = {
          available: true as const,
          polledAt: '2026-12-02T00:00:00.000Z',
          nodes: { [`${name}-2`]: { cpu: 120, memory: 2 ** 29 } },
        };
        expect(await writer.setUsage(usage)).toBe(6);
        await writer.setStatus('degraded', 'API unreachable');
        await writer.heartbeat();

        const snapshot = await reader.getSnapshot(name);
        expect(snapshot).toMatchObject({
          seq: 7,
          epoch: 1,
          podCounts: { [`${name}-0`]: 2, [`${name}-2`]: 4 },
          allocation: { [`${name}-2`]: allocation },
          usage,
        });
        expect(snapshot.nodes).toHaveLength(599);
        expect(await reader.getNode(name, `${name}-2`)).toEqual({
          seq: 7,
          node: makeNodeSnapshot(`${name}-2`),
          podCount: 4,
          allocation,
          usage,
        });
        expect((await reader.getPodCounts(name)).seq).toBe(7);
        expect(await reader.getAllocation(name)).toEqual({
          seq: 7,
          allocation: { [`${name}-2`]: allocation },
        });
        const replay = await reader.readEventsAfter(name, 1);
        expect(replay.status === 'ok' && replay.envelopes.map((e) => e.type)).toEqual([
          'resync',
          'node_delete',
          'pod_counts',
          'allocation',
          'usage',
          'cluster_status',
        ]);

        // The servers forget every script (restart, failover): EVALSHA falls back to EVAL.
        await Promise.all(client.nodes('master').map((node) => node.script('FLUSH')));
        await writer.heartbeat();
        expect((await reader.getCluster(name))?.seq).toBe(7);

        // A takeover fences the old writer on this shard too.
        await client.del(keyspace.cluster(name).lease);
        const next = new LeaderLease(client, keyspace, name, `w2-${name}`, { ttlMs: 5_000 });
        expect(await next.acquire()).toBe(2);
        await expect(writer.applyPodDeltas({ x: 1 })).rejects.toBeInstanceOf(FencedError);
        await lease.release();
        await next.release();
      }

      const summaries = await reader.listClusters();
      expect(summaries.map((s) => [s.name, s.status, s.nodeCount, s.podCount])).toEqual(
        [...names].sort().map((n) => [n, 'degraded', 599, 6]),
      );
      await waitFor(() => received.length === names.length * 7, {
        what: 'every envelope on the change feed',
      });
      for (const name of names) {
        expect(received.filter((e) => e.cluster === name).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      }
      expect(invalid).toEqual([]);
      await changes.close();
    },
  );

  it('createRedisConnection(rc.url) opens Cluster connections: a writer and a subscriber in the mode derived from the URL (sharded) exchange envelopes of clusters on every shard', async () => {
    const keyspace = new Keyspace('knmc-url');
    expect(rc.url).toMatch(/^redis\+cluster:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    const pubsub = redisPubSubMode(rc.url);
    expect(pubsub).toBe('sharded');
    const opened: RedisClient[] = [];
    try {
      const commands = createRedisConnection(rc.url, 'commands');
      const subscriber = createRedisConnection(rc.url, 'subscriber');
      opened.push(commands, subscriber);
      const received: Envelope[] = [];
      const changes = new ChangeSubscriber(subscriber, keyspace, { pubsub });
      changes.onEnvelope((e) => received.push(e));
      for (const name of names) await changes.subscribe(name);
      for (const name of names) {
        const lease = new LeaderLease(commands, keyspace, name, `u-${name}`, { ttlMs: 5_000 });
        const writer = new NodeStoreWriter(commands, keyspace, name, await lease.acquire(), `u-${name}`, {
          pubsub,
        });
        await writer.rebuild({ nodes: [makeNodeSnapshot(`${name}-0`)], podCounts: {}, reason: 'rebuild' });
        await writer.applyPodDeltas({ [`${name}-0`]: 2 });
        await lease.release();
      }
      await waitFor(() => received.length === names.length * 2, { what: 'two envelopes per cluster' });
      for (const name of names) {
        expect(received.filter((e) => e.cluster === name).map((e) => [e.seq, e.type])).toEqual([
          [1, 'resync'],
          [2, 'pod_counts'],
        ]);
      }
      await changes.close();
    } finally {
      await Promise.all(opened.map((c) => c.quit().catch(() => c.disconnect())));
    }
  });

  it('node pods over sharded pub/sub: a gateway asks, the leader of each cluster (on its shard) answers; no leader is a 503', async () => {
    const keyspace = new Keyspace('knmc-pods');
    const pubsub = redisPubSubMode(rc.url);
    const opened: RedisClient[] = [];
    const responders: NodePodsResponder[] = [];
    try {
      const commands = createRedisConnection(rc.url, 'commands');
      const gatewaySubscriber = createRedisConnection(rc.url, 'subscriber');
      const watcherSubscriber = createRedisConnection(rc.url, 'subscriber');
      opened.push(commands, gatewaySubscriber, watcherSubscriber);
      const leading = names.slice(0, -1);
      for (const name of leading) {
        const epoch = await new LeaderLease(commands, keyspace, name, `p-${name}`, {
          ttlMs: 5_000,
        }).acquire();
        const writer = new NodeStoreWriter(commands, keyspace, name, epoch, `p-${name}`, { pubsub });
        const responder = new NodePodsResponder(
          watcherSubscriber,
          keyspace,
          name,
          writer,
          (node) =>
            Promise.resolve({
              ok: true,
              node,
              fetchedAt: new Date().toISOString(),
              truncated: false,
              usageAvailable: false,
              items: [],
            }),
          { pubsub },
        );
        responders.push(responder);
        await responder.start();
      }
      const client = new NodePodsClient(commands, gatewaySubscriber, keyspace, { pubsub, timeoutMs: 5_000 });
      for (const name of leading) {
        expect(await client.get(name, `${name}-node`)).toMatchObject({ ok: true, node: `${name}-node` });
      }
      expect(await client.get(names.at(-1) as (typeof names)[number], 'x')).toMatchObject({
        ok: false,
        status: 503,
      });
      await client.close();
    } finally {
      await Promise.all(responders.map((r) => r.stop()));
      await Promise.all(opened.map((c) => c.quit().catch(() => c.disconnect())));
    }
  });
});
