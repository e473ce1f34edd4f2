import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRedis, makeNodeSnapshot, waitFor, type TestRedis } from '@knm/testing';
import { toClusterName, type Envelope } from '@knm/contracts';
import { ChangeSubscriber, NodeStoreReader, NodeStoreWriter } from '../src/index.js';

const cluster = toClusterName('atomic');

let t: TestRedis;
let writer: NodeStoreWriter;
let subscriber: ChangeSubscriber | undefined;

beforeEach(async () => {
  t = await createTestRedis();
  await t.client.set(t.keyspace.cluster(cluster).epoch, '1');
  writer = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'w');
});
afterEach(async () => {
  await subscriber?.close();
  subscriber = undefined;
  await t.close();
});

/** A reader on its own connection, so its commands interleave with the writer's on the server. */
const newReader = () => new NodeStoreReader(t.connect(), t.keyspace);

describe('atomicity under concurrent reads', () => {
  it('a snapshot always equals the state after exactly the envelopes up to its seq', async () => {
    await writer.rebuild({ nodes: [], podCounts: {}, reason: 'rebuild' }); // seq 1
    const WRITES = 600;
    // Write i (0-based) gets seq i + 2: even ones add node n<i>, odd ones add a pod to p.
    const expectedAt = (seq: number) => {
      const nodes: string[] = [];
      let pods = 0;
      for (let i = 0; i + 2 <= seq && i < WRITES; i += 1) {
        if (i % 2 === 0) nodes.push(`n${i}`);
        else pods += 1;
      }
      return { nodes: nodes.sort(), pods };
    };

    let writing = true;
    const writes = (async () => {
      try {
        // One after the other, as the watcher writes (a node write first reads the nodes'
        // stored state to derive their history, so only awaited calls keep their order);
        // the readers' commands interleave with them on the server.
        for (let i = 0; i < WRITES; i += 1) {
          const seq =
            i % 2 === 0
              ? await writer.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot(`n${i}`) }])
              : await writer.applyPodDeltas({ p: 1 });
          expect(seq).toBe(i + 2);
        }
      } finally {
        writing = false;
      }
    })();

    const reads: { seq: number; nodes: string[]; pods: number }[] = [];
    const streamReads: { lastSeq: number; currentSeq: number }[] = [];
    const readLoop = async (reader: NodeStoreReader) => {
      while (writing) {
        const snap = await reader.getSnapshot(cluster);
        reads.push({
          seq: snap.seq,
          nodes: snap.nodes.map((n) => n.name).sort(),
          pods: snap.podCounts['p'] ?? 0,
        });
        const events = await reader.readEventsAfter(cluster, Math.max(0, snap.seq - 5), 100_000);
        if (events.status === 'ok')
          streamReads.push({ lastSeq: events.lastSeq, currentSeq: events.currentSeq });
      }
    };
    await Promise.all([readLoop(newReader()), readLoop(newReader()), readLoop(newReader()), writes]);

    expect(reads.length).toBeGreaterThan(5); // the loops really ran while writing
    for (const read of reads) expect(read).toEqual({ seq: read.seq, ...expectedAt(read.seq) });
    // The stream's newest entry is always the meta seq read with it.
    for (const s of streamReads) expect(s.lastSeq).toBe(s.currentSeq);
  });

  it('an envelope on the channel is never ahead of the hashes', async () => {
    await writer.rebuild({ nodes: [], podCounts: {}, reason: 'rebuild' });
    const reader = newReader();
    subscriber = new ChangeSubscriber(t.connect(), t.keyspace);
    const checks: Promise<string | undefined>[] = [];
    subscriber.onEnvelope((e: Envelope) => {
      // Runs as soon as the message arrives; the writer keeps writing meanwhile.
      if (e.type === 'node_add') {
        checks.push(
          reader
            .getNode(cluster, e.node)
            .then((found) =>
              found && found.seq >= e.seq
                ? undefined
                : `node ${e.node} (seq ${e.seq}) missing at ${found?.seq}`,
            ),
        );
      } else if (e.type === 'pod_counts') {
        checks.push(
          reader
            .getPodCounts(cluster)
            .then(({ seq, counts }) =>
              seq >= e.seq && (counts['p'] ?? 0) >= (e.data.counts['p'] ?? 0)
                ? undefined
                : `pod_counts seq ${e.seq} ahead of state at ${seq}`,
            ),
        );
      }
    });
    await subscriber.subscribe(cluster);
    for (let start = 0; start < 300; start += 20) {
      const batch: Promise<number>[] = [];
      for (let i = start; i < start + 20; i += 1) {
        batch.push(
          i % 2 === 0
            ? writer.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot(`n${i}`) }])
            : writer.applyPodDeltas({ p: 1 }),
        );
      }
      await Promise.all(batch);
    }
    await waitFor(() => checks.length === 300, { what: '300 envelopes checked', timeout: 20_000 });
    expect((await Promise.all(checks)).filter((x) => x !== undefined)).toEqual([]);
  });

  it('a rebuild is never seen half-done: each read is all-A or all-B (2,000 nodes each)', async () => {
    const SIZE = 2_000;
    const generation = (prefix: string) =>
      Array.from({ length: SIZE }, (_, i) => makeNodeSnapshot(`${prefix}-${i}`));
    const nodesOf = { a: generation('a'), b: generation('b') };
    const podsOf = (prefix: string) =>
      Object.fromEntries(Array.from({ length: SIZE }, (_, i) => [`${prefix}-${i}`, 1 + (i % 3)]));
    const prefixAtSeq = new Map<number, string>();
    prefixAtSeq.set(
      await writer.rebuild({ nodes: nodesOf.a, podCounts: podsOf('a'), reason: 'rebuild' }),
      'a',
    );

    let rebuilding = true;
    const rebuilds = (async () => {
      try {
        for (let round = 0; round < 6; round += 1) {
          const prefix = round % 2 === 0 ? 'b' : 'a';
          const seq = await writer.rebuild({
            nodes: nodesOf[prefix],
            podCounts: podsOf(prefix),
            reason: 'rebuild',
          });
          prefixAtSeq.set(seq, prefix);
        }
      } finally {
        rebuilding = false;
      }
    })();

    const reads: {
      seq: number;
      prefixes: string[];
      nodes: number;
      podNodes: number;
      podPrefixes: string[];
    }[] = [];
    const readLoop = async (reader: NodeStoreReader) => {
      while (rebuilding) {
        const snap = await reader.getSnapshot(cluster);
        const prefixes = (names: string[]) => [...new Set(names.map((n) => n.split('-')[0] ?? ''))];
        reads.push({
          seq: snap.seq,
          prefixes: prefixes(snap.nodes.map((n) => n.name)),
          nodes: snap.nodes.length,
          podNodes: Object.keys(snap.podCounts).length,
          podPrefixes: prefixes(Object.keys(snap.podCounts)),
        });
      }
    };
    await Promise.all([readLoop(newReader()), readLoop(newReader()), rebuilds]);

    expect(reads.length).toBeGreaterThan(2);
    for (const read of reads) {
      const prefix = prefixAtSeq.get(read.seq);
      expect(read).toEqual({
        seq: read.seq,
        prefixes: [prefix],
        nodes: SIZE,
        podNodes: SIZE,
        podPrefixes: [prefix],
      });
    }
  });
});
