import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRedis, makeNodeSnapshot, type TestRedis } from '@knm/testing';
import {
  EMPTY_ALLOCATION,
  EnvelopeSchema,
  toClusterName,
  type ClusterKeys,
  type NodeAllocation,
  type UsageSnapshot,
} from '@knm/contracts';
import { NodeStoreReader, NodeStoreWriter } from '../src/index.js';

const dev = toClusterName('dev');
const prod = toClusterName('prod');
const T0 = new Date('2026-11-22T12:00:00.000Z');

let t: TestRedis;
let keys: ClusterKeys;
let now: Date;
let writer: NodeStoreWriter;
let invalid: { subject: string; raw: string }[];
let reader: NodeStoreReader;

beforeEach(async () => {
  t = await createTestRedis();
  keys = t.keyspace.cluster(dev);
  now = T0;
  await t.client.set(keys.epoch, '1');
  writer = new NodeStoreWriter(t.client, t.keyspace, dev, 1, 'w-dev', { clock: () => now });
  invalid = [];
  reader = new NodeStoreReader(t.client, t.keyspace, {
    clock: () => now,
    staleAfterMs: 10_000,
    onInvalid: (subject, raw) => invalid.push({ subject, raw }),
  });
});
afterEach(async () => t.close());

describe('NodeStoreReader snapshots', () => {
  it('getSnapshot returns nodes sorted by name, pod counts, seq and epoch', async () => {
    await writer.rebuild({
      nodes: [makeNodeSnapshot('b'), makeNodeSnapshot('a')],
      podCounts: { a: 3 },
      reason: 'rebuild',
    });
    await writer.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot('c') }]);
    expect(await reader.getSnapshot(dev)).toEqual({
      seq: 2,
      epoch: 1,
      nodes: [makeNodeSnapshot('a'), makeNodeSnapshot('b'), makeNodeSnapshot('c')],
      podCounts: { a: 3 },
      allocation: {},
      usage: undefined,
    });
  });

  it('getSnapshot of an unknown cluster is empty at seq 0', async () => {
    expect(await reader.getSnapshot(prod)).toEqual({
      seq: 0,
      epoch: 0,
      nodes: [],
      podCounts: {},
      allocation: {},
      usage: undefined,
    });
  });

  it('getNode and getPodCounts carry the seq they reflect', async () => {
    await writer.rebuild({
      nodes: [makeNodeSnapshot('a'), makeNodeSnapshot('b')],
      podCounts: { a: 3 },
      reason: 'rebuild',
    });
    await writer.applyPodDeltas({ b: 2 });
    const none = { allocation: EMPTY_ALLOCATION, usage: undefined };
    expect(await reader.getNode(dev, 'a')).toEqual({
      seq: 2,
      node: makeNodeSnapshot('a'),
      podCount: 3,
      ...none,
    });
    expect(await reader.getNode(dev, 'b')).toEqual({
      seq: 2,
      node: makeNodeSnapshot('b'),
      podCount: 2,
      ...none,
    });
    expect(await reader.getNode(dev, 'zzz')).toBeUndefined();
    expect(await reader.getPodCounts(dev)).toEqual({ seq: 2, counts: { a: 3, b: 2 } });
  });

  it('skips and reports corrupt node entries and pod counts instead of throwing', async () => {
    await writer.rebuild({ nodes: [makeNodeSnapshot('a')], podCounts: { a: 1 }, reason: 'rebuild' });
    await t.client.hset(keys.nodes, 'bad', '{"name":"bad"}', 'worse', 'not json');
    await t.client.hset(keys.pods, 'x', 'many');
    const snapshot = await reader.getSnapshot(dev);
    expect(snapshot.nodes.map((n) => n.name)).toEqual(['a']);
    expect(snapshot.podCounts).toEqual({ a: 1 });
    expect(invalid.map((i) => i.subject).sort()).toEqual([
      `${keys.nodes} field bad`,
      `${keys.nodes} field worse`,
      `${keys.pods} field x`,
    ]);
    expect(await reader.getNode(dev, 'bad')).toBeUndefined();
  });
});

describe('NodeStoreReader allocation and usage', () => {
  const webPods: NodeAllocation = { requests: { cpu: 500, memory: 2 ** 30 }, limits: { memory: 2 ** 31 } };
  const gpuPods: NodeAllocation = {
    requests: { cpu: 100, 'nvidia.com/gpu': 1 },
    limits: { 'nvidia.com/gpu': 1 },
  };
  const usage: UsageSnapshot = {
    available: true,
    polledAt: T0.toISOString(),
    timestamp: '2026-11-22T11:59:55Z',
    window: '15s',
    nodes: { a: { cpu: 250, memory: 2 ** 29 }, b: { cpu: 40, memory: 2 ** 28 } },
  };

  it('getSnapshot, getAllocation, getUsage and getNode read what the writer stored, with the seq it reflects', async () => {
    await writer.rebuild({
      nodes: [makeNodeSnapshot('a'), makeNodeSnapshot('b'), makeNodeSnapshot('c')],
      podCounts: { a: 3, b: 1 },
      allocation: { a: webPods },
      reason: 'rebuild',
    });
    await writer.applyPodDeltas({ b: 1 }, { b: gpuPods });
    await writer.setUsage(usage);
    const snapshot = await reader.getSnapshot(dev);
    expect(snapshot).toMatchObject({ seq: 4, allocation: { a: webPods, b: gpuPods }, usage });
    expect(await reader.getAllocation(dev)).toEqual({ seq: 4, allocation: { a: webPods, b: gpuPods } });
    expect(await reader.getUsage(dev)).toEqual({ seq: 4, usage });
    expect(await reader.getNode(dev, 'a')).toEqual({
      seq: 4,
      node: makeNodeSnapshot('a'),
      podCount: 3,
      allocation: webPods,
      usage: { ...usage, nodes: { a: usage.nodes['a'] } },
    });
    expect(await reader.getNode(dev, 'c')).toEqual({
      seq: 4,
      node: makeNodeSnapshot('c'),
      podCount: 0,
      allocation: EMPTY_ALLOCATION,
      usage: { ...usage, nodes: {} },
    });
    expect(invalid).toEqual([]);
  });

  it('reports a corrupt allocation field or usage snapshot and leaves it out instead of throwing', async () => {
    await writer.rebuild({
      nodes: [makeNodeSnapshot('a'), makeNodeSnapshot('b')],
      podCounts: { a: 1, b: 1 },
      allocation: { a: webPods },
      reason: 'rebuild',
    });
    await t.client.hset(keys.allocation, 'b', '{"requests":{"cpu":-1},"limits":{}}', 'x', 'not json');
    await t.client.set(keys.usage, '{"available":"maybe"}');
    const snapshot = await reader.getSnapshot(dev);
    expect(snapshot.allocation).toEqual({ a: webPods });
    expect(snapshot.usage).toBeUndefined();
    expect((await reader.getNode(dev, 'b'))?.allocation).toEqual(EMPTY_ALLOCATION);
    expect((await reader.getAllocation(dev)).allocation).toEqual({ a: webPods });
    expect(invalid.map((i) => i.subject)).toContain(`${keys.allocation} field b`);
    expect(invalid.map((i) => i.subject)).toContain(`${keys.allocation} field x`);
    expect(invalid.map((i) => i.subject)).toContain(keys.usage);
  });
});

describe('NodeStoreReader clusters', () => {
  it('listClusters joins the registry with meta; getCluster reads one', async () => {
    await writer.register({ server: 'https://dev:6443' });
    await writer.rebuild({ nodes: [makeNodeSnapshot('a')], podCounts: { a: 4 }, reason: 'rebuild' });
    await t.client.set(t.keyspace.cluster(prod).epoch, '7');
    const prodWriter = new NodeStoreWriter(t.client, t.keyspace, prod, 7, 'w-prod', { clock: () => now });
    await prodWriter.register({});
    await prodWriter.setStatus('degraded', 'API unreachable');
    await prodWriter.heartbeat();
    const ts = T0.toISOString();
    expect(await reader.listClusters()).toEqual([
      {
        name: 'dev',
        registeredAt: ts,
        server: 'https://dev:6443',
        seq: 1,
        epoch: 1,
        status: 'ready',
        syncedAt: ts,
        lastEventAt: ts,
        heartbeatAt: ts,
        nodeCount: 1,
        podCount: 4,
        leader: 'w-dev',
      },
      {
        name: 'prod',
        registeredAt: ts,
        seq: 1,
        epoch: 7,
        status: 'degraded',
        error: 'API unreachable',
        lastEventAt: ts,
        heartbeatAt: ts,
        leader: 'w-prod',
      },
    ]);
    expect(await reader.getCluster(prod)).toMatchObject({ name: 'prod', status: 'degraded' });
    expect(await reader.getCluster(toClusterName('nope'))).toBeUndefined();
  });

  it('reports stale when the heartbeat is older than staleAfterMs, and recovers on the next heartbeat', async () => {
    await writer.register({});
    await writer.rebuild({ nodes: [], podCounts: {}, reason: 'rebuild' });
    now = new Date(T0.getTime() + 10_000);
    expect((await reader.getCluster(dev))?.status).toBe('ready');
    now = new Date(T0.getTime() + 10_001);
    expect((await reader.getCluster(dev))?.status).toBe('stale');
    await writer.heartbeat();
    expect((await reader.getCluster(dev))?.status).toBe('ready');
  });

  it('a registered cluster without meta is syncing; a corrupt registry entry is skipped and reported', async () => {
    await writer.register({});
    await t.client.hset(t.keyspace.clusters, 'broken', '{"name":"Not Valid"}');
    expect(await reader.listClusters()).toEqual([
      { name: 'dev', registeredAt: T0.toISOString(), seq: 0, epoch: 0, status: 'syncing' },
    ]);
    expect(invalid.map((i) => i.subject)).toEqual([`${t.keyspace.clusters} entry broken`]);
  });
});

describe('NodeStoreReader.readEventsAfter', () => {
  beforeEach(async () => {
    await writer.rebuild({ nodes: [], podCounts: {}, reason: 'rebuild' });
    for (let i = 0; i < 9; i += 1) await writer.applyPodDeltas({ a: 1 });
  });

  it('returns the envelopes after a seq, oldest first, decoded', async () => {
    const result = await reader.readEventsAfter(dev, 7);
    expect(result).toEqual({
      status: 'ok',
      lastSeq: 10,
      currentSeq: 10,
      envelopes: [8, 9, 10].map((seq) =>
        EnvelopeSchema.parse({
          seq,
          type: 'pod_counts',
          cluster: 'dev',
          timestamp: T0.toISOString(),
          data: { counts: { a: seq - 1 } },
        }),
      ),
    });
  });

  it('honours limit; lastSeq says where to continue', async () => {
    const first = await reader.readEventsAfter(dev, 0, 4);
    expect(first.status === 'ok' && first.envelopes.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(first).toMatchObject({ lastSeq: 4, currentSeq: 10 });
    const rest = await reader.readEventsAfter(dev, 4, 100);
    expect(rest.status === 'ok' && rest.envelopes.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10]);
  });

  it('is ok and empty when the caller is up to date', async () => {
    expect(await reader.readEventsAfter(dev, 10)).toEqual({
      status: 'ok',
      envelopes: [],
      lastSeq: 10,
      currentSeq: 10,
    });
  });

  it('reports a gap when the stream was trimmed past afterSeq+1', async () => {
    await t.client.xtrim(keys.events, 'MAXLEN', 3);
    expect(await reader.readEventsAfter(dev, 0)).toEqual({ status: 'gap', lastSeq: 10 });
    expect(await reader.readEventsAfter(dev, 6)).toEqual({ status: 'gap', lastSeq: 10 });
    const ok = await reader.readEventsAfter(dev, 7);
    expect(ok.status === 'ok' && ok.envelopes.map((e) => e.seq)).toEqual([8, 9, 10]);
  });

  it('reports a gap when the stream is gone entirely but seq moved on', async () => {
    await t.client.del(keys.events);
    expect(await reader.readEventsAfter(dev, 2)).toEqual({ status: 'gap', lastSeq: 10 });
  });

  it('reports a gap when afterSeq is beyond the current seq (Redis lost its data)', async () => {
    await t.client.del(keys.events, keys.meta);
    await writer.applyPodDeltas({ a: 1 });
    expect(await reader.readEventsAfter(dev, 10)).toEqual({ status: 'gap', lastSeq: 1 });
  });

  it('a corrupt stream entry is a gap (reported): the caller must not move past a change it never saw', async () => {
    await t.client.xadd(keys.events, '11-0', 'e', '{"seq":11,"type":"bogus"}');
    await t.client.hset(keys.meta, 'seq', '11');
    await writer.applyPodDeltas({ a: 1 });
    expect(await reader.readEventsAfter(dev, 9)).toEqual({ status: 'gap', lastSeq: 12 });
    expect(invalid).toEqual([{ subject: `${keys.events} entry 11-0`, raw: '{"seq":11,"type":"bogus"}' }]);
    // After it, reading goes on as usual.
    const after = await reader.readEventsAfter(dev, 11);
    expect(after.status === 'ok' && after.envelopes.map((e) => e.seq)).toEqual([12]);
  });

  it('rejects a negative afterSeq or a bad limit', async () => {
    await expect(reader.readEventsAfter(dev, -1)).rejects.toThrow(RangeError);
    await expect(reader.readEventsAfter(dev, 0, 0)).rejects.toThrow(RangeError);
  });
});
