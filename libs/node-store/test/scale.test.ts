import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRedis, makeNodeSnapshot, type TestRedis } from '@knm/testing';
import { toClusterName } from '@knm/contracts';
import { NodeStoreReader, NodeStoreWriter, type NodeChange } from '../src/index.js';

const cluster = toClusterName('big');

let t: TestRedis;
let writer: NodeStoreWriter;

beforeEach(async () => {
  t = await createTestRedis();
  await t.client.set(t.keyspace.cluster(cluster).epoch, '1');
  writer = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'w');
});
afterEach(async () => t.close());

/** Logs a measurement in a greppable form (`[node-store bench] ...`). */
const report = (what: string, value: string) => console.log(`[node-store bench] ${what}: ${value}`);

/** A node snapshot of about 3 KB of JSON (a padded label), like a busy real node. */
const paddedNode = (name: string) =>
  makeNodeSnapshot(name, {
    labels: { 'kubernetes.io/hostname': name, 'example.com/padding': 'x'.repeat(2_600) },
  });

describe('scale', () => {
  it('rebuilds 5,000 nodes of ~3 KB each (twice, over existing data) and reads them back', async () => {
    const nodes = Array.from({ length: 5_000 }, (_, i) => paddedNode(`node-${String(i).padStart(5, '0')}`));
    const bytes = nodes.reduce((sum, n) => sum + JSON.stringify(n).length, 0);
    expect(bytes / nodes.length).toBeGreaterThan(2_800);
    const podCounts = Object.fromEntries(nodes.map((n, i) => [n.name, i % 40]));

    let started = performance.now();
    expect(await writer.rebuild({ nodes, podCounts, reason: 'rebuild' })).toBe(1);
    const first = performance.now() - started;
    // The clock is read once, between staging and the swap: it splits the time in two.
    let swapStartedAt = 0;
    const timed = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'w', {
      clock: () => {
        swapStartedAt = performance.now();
        return new Date();
      },
    });
    started = performance.now();
    expect(await timed.rebuild({ nodes, podCounts, reason: 'rebuild' })).toBe(2);
    const second = performance.now() - started;
    const swap = performance.now() - swapStartedAt;
    report(
      'rebuild 5,000 nodes',
      `${first.toFixed(0)} ms into empty, ${second.toFixed(0)} ms over existing, of which the atomic swap script ` +
        `${swap.toFixed(1)} ms (${(bytes / 1e6).toFixed(1)} MB of snapshots)`,
    );

    const reader = new NodeStoreReader(t.client, t.keyspace);
    started = performance.now();
    const snap = await reader.getSnapshot(cluster);
    report('getSnapshot 5,000 nodes (decoded with zod)', `${(performance.now() - started).toFixed(0)} ms`);
    expect(snap.nodes).toHaveLength(5_000);
    expect(snap.nodes[4_999]).toEqual(nodes[4_999]);
    expect(Object.keys(snap.podCounts)).toHaveLength(5_000 - 125);
    expect((await reader.getCluster(cluster)) ?? { nodeCount: 5_000 }).toMatchObject({ nodeCount: 5_000 });
    expect((await t.keys()).filter((k) => k.includes(':staging:'))).toEqual([]);
    expect(first).toBeLessThan(30_000);
  });

  it('write throughput: single node updates, batched updates, coalesced pod deltas', async () => {
    const nodes = Array.from({ length: 1_000 }, (_, i) => paddedNode(`n${i}`));
    // Counts to take deltas from: the -1s below never go under 0.
    const podCounts = Object.fromEntries(nodes.map((n) => [n.name, 100]));
    await writer.rebuild({ nodes, podCounts, reason: 'rebuild' });
    const update = (i: number): NodeChange => ({
      type: 'node_update',
      node: { ...nodes[i % nodes.length]!, resourceVersion: String(i + 2), labels: { x: String(i) } },
      changes: ['labels'],
    });

    let started = performance.now();
    for (let i = 0; i < 1_000; i += 1) await writer.applyNodeChanges([update(i)]);
    let ms = performance.now() - started;
    report(
      'applyNodeChanges, 1 change per call, awaited one by one',
      `${((1_000 / ms) * 1_000).toFixed(0)} envelopes/s (${(ms / 1_000).toFixed(2)} ms each)`,
    );

    started = performance.now();
    await writer.applyNodeChanges(Array.from({ length: 5_000 }, (_, i) => update(i)));
    ms = performance.now() - started;
    report('applyNodeChanges, 5,000 changes in one call', `${((5_000 / ms) * 1_000).toFixed(0)} envelopes/s`);

    started = performance.now();
    for (let i = 0; i < 1_000; i += 1) {
      const deltas: Record<string, number> = {};
      for (let k = 0; k < 20; k += 1) deltas[`n${(i * 20 + k) % 1_000}`] = (k % 3) - 1 || 1;
      await writer.applyPodDeltas(deltas);
    }
    ms = performance.now() - started;
    report(
      'applyPodDeltas, 20 nodes per call, awaited one by one',
      `${((1_000 / ms) * 1_000).toFixed(0)} calls/s`,
    );
    expect((await new NodeStoreReader(t.client, t.keyspace).readEventsAfter(cluster, 0, 1)).status).toBe(
      'ok',
    );
  });
});
