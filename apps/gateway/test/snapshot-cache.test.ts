import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeStoreReader, type ClusterPosition } from '@knm/node-store';
import { createTestRedis, makeNodeSnapshot, type TestRedis } from '@knm/testing';
import { SnapshotCache } from '../src/clusters/snapshot-cache.js';
import { seedCluster } from './support/gateway-harness.js';

let redis: TestRedis;

beforeEach(async () => {
  redis = await createTestRedis();
});

afterEach(async () => {
  await redis.close();
});

describe('SnapshotCache (real Redis, a clock of its own)', () => {
  it('answers a caller that accepts staleness from the latest read within it, and every other caller fresh', async () => {
    const { cluster, writer } = await seedCluster(redis, 'dev', [makeNodeSnapshot('n-1')]);
    const reader = new NodeStoreReader(redis.client, redis.keyspace);
    let clock = 1_000_000;
    const cache = new SnapshotCache(reader, () => clock);
    const position = async (): Promise<ClusterPosition> => {
      const at = await reader.getPosition(cluster);
      if (!at) throw new Error('the cluster is not registered');
      return at;
    };

    const first = await cache.get(cluster, await position());
    await writer.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot('n-2') }]);
    const moved = await position();
    expect(moved.seq).toBeGreaterThan(first.seq);

    // Read 900 ms ago: within a second's staleness, the same snapshot (no read).
    clock += 900;
    expect(await cache.get(cluster, moved, 1_000)).toBe(first);
    // Without staleness: a read at least as new as the cluster.
    const fresh = await cache.get(cluster, moved);
    expect(fresh.seq).toBe(moved.seq);
    expect(fresh.nodes.map((n) => n.name).sort()).toEqual(['n-1', 'n-2']);

    // Staleness counts from when the read was sent: 1,001 ms later it is too old.
    await writer.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot('n-3') }]);
    const later = await position();
    clock += 1_001;
    const reread = await cache.get(cluster, later, 1_000);
    expect(reread.seq).toBe(later.seq);

    // Another epoch (a new leader) or life (Redis lost its data) never shares a snapshot.
    expect(
      await cache.get(cluster, { ...later, seq: later.seq + 1, epoch: later.epoch + 1 }, 1_000),
    ).not.toBe(reread);
    expect(
      await cache.get(cluster, { ...later, seq: later.seq + 1, registeredAt: 'another life' }, 1_000),
    ).not.toBe(reread);
  });
});
