import { afterEach, describe, expect, it } from 'vitest';
import { createTestRedis, waitFor, type TestRedis } from '@knm/testing';
import { toClusterName } from '@knm/contracts';
import { LeaderLease, NodeStoreReader, NodeStoreWriter } from '../src/index.js';
import { collectChannel, makeNode, readStream } from './fixtures.js';

const cluster = toClusterName('dev');
let t: TestRedis;
afterEach(async () => t?.close());

describe('smoke', () => {
  it('acquires, rebuilds, applies and reads', async () => {
    t = await createTestRedis();
    const channel = await collectChannel(t.connect(), t.keyspace, cluster);
    const lease = new LeaderLease(t.client, t.keyspace, cluster, 'w-1', { ttlMs: 1000 });
    const epoch = await lease.acquire();
    expect(epoch).toBe(1);
    const w = new NodeStoreWriter(t.client, t.keyspace, cluster, epoch, 'w-1');
    await w.register({ server: 'https://x' });
    const seq = await w.rebuild({
      nodes: [makeNode('a'), makeNode('b')],
      podCounts: { a: 2, b: 0 },
      reason: 'leader_change',
    });
    expect(seq).toBe(1);
    expect(await w.applyNodeChanges([{ type: 'node_add', node: makeNode('c') }])).toBe(2);
    expect(await w.applyPodDeltas({ a: -2, c: 5 })).toBe(3);
    await w.setStatus('degraded', 'boom');
    const r = new NodeStoreReader(t.client, t.keyspace);
    const snap = await r.getSnapshot(cluster);
    expect(snap.seq).toBe(4);
    expect(snap.nodes.map((n) => n.name)).toEqual(['a', 'b', 'c']);
    expect(snap.podCounts).toEqual({ c: 5 });
    console.log(await readStream(t.client, t.keyspace, cluster));
    console.log(await r.listClusters());
    console.log(await r.readEventsAfter(cluster, 1));
    await waitFor(() => channel.received.length === 4);
    await lease.release();
  });
});
