import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRedis, makeNodeSnapshot, waitFor, type TestRedis } from '@knm/testing';
import {
  ClusterMetaSchema,
  ClusterRegistryEntrySchema,
  decode,
  decodeJson,
  toClusterName,
  EMPTY_ALLOCATION,
  type ClusterKeys,
  type Envelope,
  type NodeAllocation,
  type UsageSnapshot,
} from '@knm/contracts';
import { FencedError, NodeStoreWriter, StagingLostError } from '../src/index.js';
import { collectChannel, readStream } from './support/fixtures.js';

const cluster = toClusterName('dev');
const T0 = new Date('2026-11-22T12:00:00.000Z');

let t: TestRedis;
let keys: ClusterKeys;
let now: Date;
let writer: NodeStoreWriter;
let channel: { received: Envelope[]; raw: string[] };

beforeEach(async () => {
  t = await createTestRedis();
  keys = t.keyspace.cluster(cluster);
  now = T0;
  const epoch = await t.client.incr(keys.epoch);
  writer = new NodeStoreWriter(t.client, t.keyspace, cluster, epoch, 'host/1/abc', { clock: () => now });
  channel = await collectChannel(t.connect(), t.keyspace, cluster);
});
afterEach(async () => t.close());

const meta = async () => decode(ClusterMetaSchema, await t.client.hgetall(keys.meta), 'meta');
const nodeNames = async () => (await t.client.hkeys(keys.nodes)).sort();
const tick = (ms: number) => {
  now = new Date(now.getTime() + ms);
  return now.toISOString();
};

describe('NodeStoreWriter', () => {
  it('register keeps registeredAt of an existing entry and updates the server', async () => {
    await writer.register({ server: 'https://a:6443' });
    tick(60_000);
    await writer.register({ server: 'https://b:6443' });
    const entry = decodeJson(
      ClusterRegistryEntrySchema,
      (await t.client.hget(t.keyspace.clusters, cluster)) ?? '',
      'entry',
    );
    expect(entry).toEqual({ name: 'dev', registeredAt: T0.toISOString(), server: 'https://b:6443' });
  });

  it('rebuild swaps nodes and pods, sets meta and emits one resync envelope', async () => {
    await t.client.hset(keys.nodes, 'old', '{}');
    await t.client.hset(keys.pods, 'old', '4');
    const seq = await writer.rebuild({
      nodes: [makeNodeSnapshot('a'), makeNodeSnapshot('b')],
      podCounts: { a: 3, b: 0 },
      reason: 'rebuild',
    });
    expect(seq).toBe(1);
    expect(await nodeNames()).toEqual(['a', 'b']);
    expect(JSON.parse((await t.client.hget(keys.nodes, 'a')) ?? '')).toEqual(makeNodeSnapshot('a'));
    expect(await t.client.hgetall(keys.pods)).toEqual({ a: '3' });
    expect(await t.client.pttl(keys.nodes)).toBe(-1);
    expect(await t.client.pttl(keys.pods)).toBe(-1);
    expect(await meta()).toEqual({
      seq: 1,
      epoch: 1,
      status: 'ready',
      syncedAt: T0.toISOString(),
      heartbeatAt: T0.toISOString(),
      lastEventAt: T0.toISOString(),
      nodeCount: 2,
      podCount: 3,
      leader: 'host/1/abc',
    });
    const resync: Envelope = {
      seq: 1,
      type: 'resync',
      cluster,
      data: { reason: 'rebuild', epoch: 1 },
      timestamp: T0.toISOString(),
    };
    expect(await readStream(t.client, t.keyspace, cluster)).toEqual([resync]);
    await waitFor(() => channel.received.length === 1, { what: 'resync on the channel' });
    expect(channel.received).toEqual([resync]);
    expect((await t.keys()).filter((k) => k.includes(':staging:'))).toEqual([]);
  });

  it('rebuild stages under temporary keys with a TTL, invisible to readers until the swap', async () => {
    await writer.rebuild({ nodes: [makeNodeSnapshot('old')], podCounts: {}, reason: 'rebuild' });
    let seenAtSwap: Promise<unknown> | undefined;
    const probe = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'host/1/abc', {
      stagingTtlMs: 60_000,
      // Read between staging and the swap (same connection, so it runs right before the swap script).
      clock: () => {
        seenAtSwap ??= t.client.eval(
          `local out = {}
           for _, k in ipairs(redis.call('KEYS', ARGV[1])) do out[#out + 1] = {k, redis.call('PTTL', k), redis.call('HLEN', k)} end
           return {out, redis.call('HKEYS', KEYS[1])}`,
          1,
          keys.nodes,
          `${t.namespace}:*:staging:*`,
        );
        return now;
      },
    });
    await probe.rebuild({
      nodes: [makeNodeSnapshot('x'), makeNodeSnapshot('y')],
      podCounts: { x: 1 },
      reason: 'rebuild',
    });
    const [staged, live] = (await seenAtSwap) as [[string, number, number][], string[]];
    expect(live).toEqual(['old']);
    expect(staged.map(([k, , len]) => [k.replace(/:staging:[0-9a-f]+$/, ':staging'), len]).sort()).toEqual([
      [`${keys.nodes}:staging`, 2],
      [`${keys.pods}:staging`, 1],
    ]);
    expect(await t.client.exists(keys.allocation)).toBe(0);
    for (const [, ttl] of staged) expect(ttl).toBeGreaterThan(50_000);
    expect(await nodeNames()).toEqual(['x', 'y']);
  });

  it('stageRebuild stages nodes invisibly; the rebuild given it writes what changed since and swaps', async () => {
    await writer.rebuild({ nodes: [makeNodeSnapshot('old')], podCounts: {}, reason: 'rebuild' });
    const a = makeNodeSnapshot('a');
    const staged = await writer.stageRebuild([a, makeNodeSnapshot('b'), makeNodeSnapshot('c')]);
    expect(staged.size).toBe(3);
    const stagingKeys = (await t.keys()).filter((k) => k.includes(':staging:'));
    expect(stagingKeys).toHaveLength(1);
    const [stagedKey] = stagingKeys as [string];
    expect(await t.client.pttl(stagedKey)).toBeGreaterThan(250_000);
    expect(await nodeNames()).toEqual(['old']);
    expect(await meta()).toMatchObject({ seq: 1, nodeCount: 1 });
    // Marks the staged `a`: a node passed again unchanged (the same object) is not written again.
    await t.client.hset(stagedKey, 'a', JSON.stringify({ ...a, labels: { staged: 'yes' } }));

    const b2 = makeNodeSnapshot('b', { unschedulable: true });
    const seq = await writer.rebuild({
      nodes: [a, b2, makeNodeSnapshot('d')],
      podCounts: { d: 2 },
      reason: 'rebuild',
      staged,
    });
    expect(seq).toBe(2);
    expect(await nodeNames()).toEqual(['a', 'b', 'd']);
    expect(JSON.parse((await t.client.hget(keys.nodes, 'a')) ?? '{}')).toMatchObject({
      labels: { staged: 'yes' },
    });
    expect(JSON.parse((await t.client.hget(keys.nodes, 'b')) ?? '{}')).toEqual(b2);
    expect(await t.client.hgetall(keys.pods)).toEqual({ d: '2' });
    expect(await meta()).toMatchObject({ seq: 2, nodeCount: 3, podCount: 2, status: 'ready' });
    expect((await t.keys()).filter((k) => k.includes(':staging:'))).toEqual([]);
    await expect(writer.rebuild({ nodes: [a], podCounts: {}, reason: 'rebuild', staged })).rejects.toThrow(
      RangeError,
    );
  });

  it('a rebuild whose staged nodes expired stages them all again', async () => {
    const staged = await writer.stageRebuild([makeNodeSnapshot('a'), makeNodeSnapshot('b')]);
    for (const key of (await t.keys()).filter((k) => k.includes(':staging:'))) await t.client.del(key);
    await writer.rebuild({
      nodes: [makeNodeSnapshot('a'), makeNodeSnapshot('b')],
      podCounts: {},
      reason: 'rebuild',
      staged,
    });
    expect(await nodeNames()).toEqual(['a', 'b']);
    expect(await meta()).toMatchObject({ nodeCount: 2 });
  });

  it("a rebuild refuses another writer's staging", async () => {
    const staged = await writer.stageRebuild([makeNodeSnapshot('a')]);
    const next = new NodeStoreWriter(t.client, t.keyspace, cluster, writer.epoch + 1, 'host/2/def');
    await expect(
      next.rebuild({ nodes: [makeNodeSnapshot('a')], podCounts: {}, reason: 'rebuild', staged }),
    ).rejects.toThrow(RangeError);
  });

  it('rebuild with no nodes and no pods empties the hashes', async () => {
    await writer.rebuild({ nodes: [makeNodeSnapshot('a')], podCounts: { a: 1 }, reason: 'rebuild' });
    await writer.rebuild({ nodes: [], podCounts: {}, reason: 'rebuild' });
    expect(await t.client.exists(keys.nodes, keys.pods)).toBe(0);
    expect(await meta()).toMatchObject({ seq: 2, nodeCount: 0, podCount: 0, status: 'ready' });
  });

  it('rebuild rejects bad input before writing anything', async () => {
    await expect(
      writer.rebuild({
        nodes: [makeNodeSnapshot('a'), makeNodeSnapshot('a')],
        podCounts: {},
        reason: 'rebuild',
      }),
    ).rejects.toThrow(RangeError);
    await expect(writer.rebuild({ nodes: [], podCounts: { a: -1 }, reason: 'rebuild' })).rejects.toThrow(
      RangeError,
    );
    await expect(writer.rebuild({ nodes: [], podCounts: { a: 1.5 }, reason: 'rebuild' })).rejects.toThrow(
      RangeError,
    );
    expect(await t.keys()).toEqual([keys.epoch]);
  });

  it('rebuild whose staged data vanished before the swap throws StagingLostError and changes nothing', async () => {
    await writer.rebuild({ nodes: [makeNodeSnapshot('a')], podCounts: { a: 1 }, reason: 'rebuild' });
    const before = await t.client.hgetall(keys.meta);
    // The clock is read between staging and the swap; a DEL sent on the same connection
    // at that moment runs before the swap script (one connection keeps command order).
    const vandal = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'host/1/abc', {
      clock: () => {
        void t.client.eval(
          "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0",
          0,
          `${keys.nodes}:staging:*`,
        );
        return now;
      },
    });
    await expect(
      vandal.rebuild({
        nodes: [makeNodeSnapshot('x'), makeNodeSnapshot('y')],
        podCounts: { x: 2 },
        reason: 'rebuild',
      }),
    ).rejects.toThrow(StagingLostError);
    expect(await nodeNames()).toEqual(['a']);
    expect(await t.client.hgetall(keys.meta)).toEqual(before);
    expect((await t.keys()).filter((k) => k.includes(':staging:'))).toEqual([]);
  });

  it('applyNodeChanges writes each change with its own envelope, in order', async () => {
    await writer.rebuild({ nodes: [makeNodeSnapshot('a')], podCounts: {}, reason: 'rebuild' });
    const ts = tick(1000);
    const a2 = makeNodeSnapshot('a', { unschedulable: true, resourceVersion: '2' });
    const last = await writer.applyNodeChanges([
      { type: 'node_add', node: makeNodeSnapshot('b') },
      { type: 'node_update', node: a2, changes: ['schedulable'] },
      { type: 'node_delete', name: 'b', uid: 'uid-b' },
      { type: 'node_add', node: makeNodeSnapshot('c') },
    ]);
    expect(last).toBe(5);
    expect(await nodeNames()).toEqual(['a', 'c']);
    expect(JSON.parse((await t.client.hget(keys.nodes, 'a')) ?? '')).toEqual(a2);
    expect(await meta()).toMatchObject({ seq: 5, nodeCount: 2, lastEventAt: ts, syncedAt: T0.toISOString() });
    const expected: Envelope[] = [
      { seq: 2, type: 'node_add', cluster, node: 'b', data: makeNodeSnapshot('b'), timestamp: ts },
      { seq: 3, type: 'node_update', cluster, node: 'a', changes: ['schedulable'], data: a2, timestamp: ts },
      { seq: 4, type: 'node_delete', cluster, node: 'b', data: { uid: 'uid-b' }, timestamp: ts },
      { seq: 5, type: 'node_add', cluster, node: 'c', data: makeNodeSnapshot('c'), timestamp: ts },
    ];
    expect((await readStream(t.client, t.keyspace, cluster)).slice(1)).toEqual(expected);
    await waitFor(() => channel.received.length === 5, { what: '5 envelopes on the channel' });
    expect(channel.received.slice(1)).toEqual(expected);
  });

  it('applyNodeChanges splits long lists into several scripts without losing order', async () => {
    const small = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'host/1/abc', {
      clock: () => now,
      nodeChangesPerScript: 3,
    });
    const changes = Array.from({ length: 10 }, (_, i) => ({
      type: 'node_add' as const,
      node: makeNodeSnapshot(`n${i}`),
    }));
    expect(await small.applyNodeChanges(changes)).toBe(10);
    const stream = await readStream(t.client, t.keyspace, cluster);
    expect(stream.map((e) => (e.type === 'node_add' ? `${e.seq}:${e.node}` : ''))).toEqual(
      changes.map((c, i) => `${i + 1}:${c.node.name}`),
    );
  });

  it('applyNodeChanges of nothing returns the current seq and emits nothing', async () => {
    await writer.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot('a') }]);
    const before = await t.client.hgetall(keys.meta);
    now = new Date(T0.getTime() + 5_000);
    expect(await writer.applyNodeChanges([])).toBe(1);
    expect(await t.client.xlen(keys.events)).toBe(1);
    expect(await t.client.hgetall(keys.meta)).toEqual(before);
  });

  it('a bad change anywhere in the list is refused before anything is written', async () => {
    const small = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'host/1/abc', {
      nodeChangesPerScript: 2,
    });
    const good = [0, 1, 2, 3].map((i) => ({ type: 'node_add' as const, node: makeNodeSnapshot(`n${i}`) }));
    await expect(
      small.applyNodeChanges([...good, { type: 'node_update', node: makeNodeSnapshot('a'), changes: [] }]),
    ).rejects.toThrow(RangeError);
    await expect(
      small.applyNodeChanges([...good, { type: 'node_delete', name: '', uid: 'u' }]),
    ).rejects.toThrow(RangeError);
    await expect(
      small.applyNodeChanges([...good, { type: 'node_add', node: makeNodeSnapshot('') }]),
    ).rejects.toThrow(RangeError);
    expect(await t.keys()).toEqual([keys.epoch]);
  });

  it('applyPodDeltas refuses to touch a corrupt stored count, changing nothing', async () => {
    await writer.applyPodDeltas({ a: 1 });
    await t.client.hset(keys.pods, 'b', 'lots');
    await expect(writer.applyPodDeltas({ a: 1, b: 1 })).rejects.toThrow(/not an integer/);
    expect(await t.client.hgetall(keys.pods)).toEqual({ a: '1', b: 'lots' });
    expect((await meta()).seq).toBe(1);
  });
  it('applyPodDeltas: HINCRBY, HDEL at 0, absolute counts in one envelope, podCount total; below 0 is stored as 0 and reported', async () => {
    await writer.rebuild({
      nodes: [makeNodeSnapshot('a'), makeNodeSnapshot('b')],
      podCounts: { a: 2, b: 5 },
      reason: 'rebuild',
    });
    const ts = tick(500);
    expect(await writer.applyPodDeltas({ a: -2, b: 3, c: 4, d: 0 })).toBe(2);
    expect(await t.client.hgetall(keys.pods)).toEqual({ b: '8', c: '4' });
    expect(await meta()).toMatchObject({ seq: 2, podCount: 12, lastEventAt: ts });
    // c holds 4: the deltas disagree with Redis. Applied (as 0), then reported, so the caller rewrites the counts.
    await expect(writer.applyPodDeltas({ c: -10, b: -1, e: -1 })).rejects.toMatchObject({
      name: 'PodCountUnderflowError',
      cluster,
      seq: 3,
      nodes: ['c', 'e'],
    });
    expect(await t.client.hgetall(keys.pods)).toEqual({ b: '7' });
    expect((await meta()).podCount).toBe(7);
    expect(await writer.applyPodDeltas({ b: 1 })).toBe(4);
    expect(await t.client.hgetall(keys.pods)).toEqual({ b: '8' });
    expect((await meta()).podCount).toBe(8);
    expect(await writer.applyPodDeltas({ a: 0 })).toBe(4);
    expect(await writer.applyPodDeltas({})).toBe(4);
    const stream = await readStream(t.client, t.keyspace, cluster);
    expect(stream.slice(1)).toEqual([
      { seq: 2, type: 'pod_counts', cluster, data: { counts: { a: 0, b: 8, c: 4 } }, timestamp: ts },
      { seq: 3, type: 'pod_counts', cluster, data: { counts: { c: 0, b: 7, e: 0 } }, timestamp: ts },
      { seq: 4, type: 'pod_counts', cluster, data: { counts: { b: 8 } }, timestamp: ts },
    ]);
    const sum = Object.values(await t.client.hgetall(keys.pods)).reduce((s, v) => s + Number(v), 0);
    expect((await meta()).podCount).toBe(sum);
    await expect(writer.applyPodDeltas({ a: 0.5 })).rejects.toThrow(RangeError);
  });

  it('applyPodDeltas writes counts and allocation in one step: pod_counts, then allocation with only the nodes that changed', async () => {
    const web: NodeAllocation = { requests: { memory: 2 ** 30, cpu: 500 }, limits: { memory: 2 ** 31 } };
    await writer.rebuild({
      nodes: [makeNodeSnapshot('a'), makeNodeSnapshot('b')],
      podCounts: { a: 1 },
      allocation: { a: web },
      reason: 'rebuild',
    });
    const ts = tick(500);
    const gpu: NodeAllocation = {
      requests: { 'nvidia.com/gpu': 1, cpu: 0 },
      limits: { 'nvidia.com/gpu': 1 },
    };
    // a: resized in place (allocation only), b: a new pod, c: its pods are gone (was never stored), a's
    // second entry equal to the stored one is left alone.
    expect(
      await writer.applyPodDeltas(
        { b: 1 },
        {
          a: { requests: { cpu: 750, memory: 2 ** 30 }, limits: { memory: 2 ** 31 } },
          b: gpu,
          c: EMPTY_ALLOCATION,
        },
      ),
    ).toBe(3);
    expect(await t.client.hgetall(keys.allocation)).toEqual({
      a: '{"requests":{"cpu":750,"memory":1073741824},"limits":{"memory":2147483648}}',
      b: '{"requests":{"nvidia.com/gpu":1},"limits":{"nvidia.com/gpu":1}}',
    });
    // Unchanged: no write, no envelope. Emptied: HDEL and an empty entry.
    expect(await writer.applyPodDeltas({}, { b: gpu })).toBe(3);
    expect(await writer.applyPodDeltas({ a: -1 }, { a: EMPTY_ALLOCATION })).toBe(5);
    expect(await t.client.hkeys(keys.allocation)).toEqual(['b']);
    const stream = await readStream(t.client, t.keyspace, cluster);
    expect(stream.slice(1)).toEqual([
      { seq: 2, type: 'pod_counts', cluster, timestamp: ts, data: { counts: { b: 1 } } },
      {
        seq: 3,
        type: 'allocation',
        cluster,
        timestamp: ts,
        data: {
          nodes: {
            a: { requests: { cpu: 750, memory: 2 ** 30 }, limits: { memory: 2 ** 31 } },
            b: { requests: { 'nvidia.com/gpu': 1 }, limits: { 'nvidia.com/gpu': 1 } },
          },
        },
      },
      { seq: 4, type: 'pod_counts', cluster, timestamp: ts, data: { counts: { a: 0 } } },
      { seq: 5, type: 'allocation', cluster, timestamp: ts, data: { nodes: { a: EMPTY_ALLOCATION } } },
    ]);
    await waitFor(() => channel.received.length === 5, { what: 'the envelopes on the channel' });
    expect(channel.received.slice(1)).toEqual(stream.slice(1));
    await expect(writer.applyPodDeltas({}, { a: { requests: { cpu: -1 }, limits: {} } })).rejects.toThrow(
      RangeError,
    );
    expect((await meta()).seq).toBe(5);
  });

  it('rebuild stores the allocation whole (empty ones left out), replacing what was there', async () => {
    await t.client.hset(keys.allocation, 'old', '{"requests":{"cpu":1},"limits":{}}');
    await writer.rebuild({
      nodes: [makeNodeSnapshot('a'), makeNodeSnapshot('b')],
      podCounts: { a: 2 },
      allocation: { a: { requests: { cpu: 200 }, limits: { cpu: 400 } }, b: EMPTY_ALLOCATION },
      reason: 'rebuild',
    });
    expect(await t.client.hgetall(keys.allocation)).toEqual({
      a: '{"requests":{"cpu":200},"limits":{"cpu":400}}',
    });
    expect(await t.client.pttl(keys.allocation)).toBe(-1);
    await writer.rebuild({ nodes: [makeNodeSnapshot('a')], podCounts: {}, reason: 'rebuild' });
    expect(await t.client.exists(keys.allocation)).toBe(0);
  });

  it('setUsage replaces the usage snapshot and emits one usage envelope per call', async () => {
    const ts = tick(100);
    const available: UsageSnapshot = {
      available: true,
      polledAt: ts,
      timestamp: '2026-11-22T12:00:00Z',
      window: '15s',
      nodes: { a: { cpu: 120, memory: 3 * 2 ** 30 } },
    };
    expect(await writer.setUsage(available)).toBe(1);
    const gone: UsageSnapshot = {
      available: false,
      polledAt: ts,
      reason: 'the cluster serves no metrics.k8s.io API',
    };
    expect(await writer.setUsage(gone)).toBe(2);
    expect(JSON.parse((await t.client.get(keys.usage)) ?? '')).toEqual(gone);
    expect(await readStream(t.client, t.keyspace, cluster)).toEqual([
      { seq: 1, type: 'usage', cluster, timestamp: ts, data: available },
      { seq: 2, type: 'usage', cluster, timestamp: ts, data: gone },
    ]);
    await expect(
      writer.setUsage({ available: true, polledAt: ts, nodes: { a: { cpu: -5, memory: 0 } } }),
    ).rejects.toThrow(/usage snapshot/);
    expect((await meta()).seq).toBe(2);
  });

  it('setStatus emits cluster_status only when status or error changes', async () => {
    await writer.rebuild({ nodes: [makeNodeSnapshot('a')], podCounts: { a: 7 }, reason: 'rebuild' });
    const ts = tick(1000);
    await writer.setStatus('degraded', 'connect ECONNREFUSED 10.0.0.1:6443');
    await writer.setStatus('degraded', 'connect ECONNREFUSED 10.0.0.1:6443');
    await writer.setStatus('degraded', 'timeout');
    await writer.setStatus('ready');
    await writer.setStatus('ready');
    const stream = await readStream(t.client, t.keyspace, cluster);
    const common = { nodeCount: 1, podCount: 7, syncedAt: T0.toISOString(), leader: 'host/1/abc' };
    expect(stream.slice(1)).toEqual([
      {
        seq: 2,
        type: 'cluster_status',
        cluster,
        timestamp: ts,
        data: { status: 'degraded', error: 'connect ECONNREFUSED 10.0.0.1:6443', ...common },
      },
      {
        seq: 3,
        type: 'cluster_status',
        cluster,
        timestamp: ts,
        data: { status: 'degraded', error: 'timeout', ...common },
      },
      { seq: 4, type: 'cluster_status', cluster, timestamp: ts, data: { status: 'ready', ...common } },
    ]);
    const m = await meta();
    expect(m.status).toBe('ready');
    expect(m.error).toBeUndefined();
  });

  it('setStatus before any rebuild reports syncing once', async () => {
    await writer.setStatus('syncing');
    await writer.setStatus('syncing');
    const stream = await readStream(t.client, t.keyspace, cluster);
    expect(stream).toEqual([
      {
        seq: 1,
        type: 'cluster_status',
        cluster,
        timestamp: T0.toISOString(),
        data: { status: 'syncing', leader: 'host/1/abc' },
      },
    ]);
  });

  it('heartbeat refreshes heartbeatAt without an envelope', async () => {
    const ts = tick(3000);
    await writer.heartbeat();
    expect(await meta()).toMatchObject({ heartbeatAt: ts, leader: 'host/1/abc', epoch: 1, seq: 0 });
    expect(await t.client.exists(keys.events)).toBe(0);
  });

  it('seq is strictly increasing with no gaps across mixed writes, on the stream and the channel', async () => {
    await writer.rebuild({ nodes: [makeNodeSnapshot('a')], podCounts: {}, reason: 'rebuild' });
    for (let i = 0; i < 20; i += 1) {
      await writer.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot(`n${i}`) }]);
      await writer.applyPodDeltas({ [`n${i}`]: i + 1 });
      if (i % 5 === 0)
        await writer.setStatus(i % 10 === 0 ? 'degraded' : 'ready', i % 10 === 0 ? 'x' : undefined);
      if (i % 7 === 0) await writer.heartbeat();
      if (i === 10)
        await writer.rebuild({ nodes: [makeNodeSnapshot('z')], podCounts: {}, reason: 'rebuild' });
    }
    const stream = await readStream(t.client, t.keyspace, cluster);
    const seqs = stream.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect((await meta()).seq).toBe(seqs.length);
    await waitFor(() => channel.received.length === seqs.length, { what: 'every envelope on the channel' });
    expect(channel.received).toEqual(stream);
  });

  it('continues after the stream when meta lost its seq (no XADD failure, no half write)', async () => {
    await writer.applyNodeChanges([
      { type: 'node_add', node: makeNodeSnapshot('a') },
      { type: 'node_add', node: makeNodeSnapshot('b') },
    ]);
    await t.client.hdel(keys.meta, 'seq');
    expect(await writer.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot('c') }])).toBe(3);
    expect(await writer.applyPodDeltas({ c: 1 })).toBe(4);
    expect((await readStream(t.client, t.keyspace, cluster)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('caps the events stream near eventsMaxLen', async () => {
    const capped = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'host/1/abc', { eventsMaxLen: 10 });
    for (let i = 0; i < 300; i += 1) await capped.applyPodDeltas({ a: 1 });
    const len = await t.client.xlen(keys.events);
    expect(len).toBeLessThan(300);
    expect(len).toBeGreaterThanOrEqual(10);
  });

  it('markSynced sets meta.syncedAt without an envelope and never moves it back; fenced', async () => {
    await writer.applyPodDeltas({ a: 1 });
    const seq = Number(await t.client.hget(keys.meta, 'seq'));
    await writer.markSynced(new Date('2026-11-22T12:00:05.000Z'));
    expect((await meta()).syncedAt).toBe('2026-11-22T12:00:05.000Z');
    await writer.markSynced(new Date('2026-11-22T12:00:01.000Z'));
    expect((await meta()).syncedAt).toBe('2026-11-22T12:00:05.000Z');
    expect(Number(await t.client.hget(keys.meta, 'seq'))).toBe(seq);
    expect(await readStream(t.client, t.keyspace, cluster)).toHaveLength(1);
    await t.client.incr(keys.epoch);
    await expect(writer.markSynced(new Date('2026-11-22T12:00:09.000Z'))).rejects.toBeInstanceOf(FencedError);
    expect((await meta()).syncedAt).toBe('2026-11-22T12:00:05.000Z');
  });

  it('readState returns the decoded nodes, pod counts, allocation, usage, seq and syncedAt together', async () => {
    expect(await writer.readState()).toEqual({
      seq: 0,
      epoch: 0,
      nodes: [],
      podCounts: {},
      allocation: {},
      usage: undefined,
    });
    await writer.rebuild({
      nodes: [makeNodeSnapshot('b'), makeNodeSnapshot('a')],
      podCounts: { a: 2 },
      reason: 'rebuild',
    });
    await writer.applyPodDeltas({ b: 1 }, { b: { requests: { cpu: 10 }, limits: {} } });
    await t.client.hset(keys.nodes, 'corrupt', 'not json');
    const state = await writer.readState();
    expect(state.nodes.map((n) => n.name)).toEqual(['a', 'b']);
    expect(state.podCounts).toEqual({ a: 2, b: 1 });
    expect(state.allocation).toEqual({ b: { requests: { cpu: 10 }, limits: {} } });
    expect(state.seq).toBe(3);
    expect(state.syncedAt).toBe(T0.toISOString());
  });
});
