import { describe, expect, it } from 'vitest';
import {
  projectNode,
  toClusterName,
  type BatchMessage,
  type Envelope,
  type KubeNodeLike,
} from '@knm/contracts';
import { generateWorld } from '@knm/fake-cluster';
import { batchJsonLength, envelopesJson } from './envelopes-json.js';

const cluster = toClusterName('dev');
const timestamp = '2026-12-03T10:00:00.000Z';
const world = generateWorld({ nodes: 3, pods: 12, seed: 7, clusterName: 'dev', now: new Date(timestamp) });

/** One envelope of every kind a batch carries, with new node snapshots from kube-sim's world. */
function everyKind(): Envelope[] {
  const [a, b, c] = world.nodes.map((n) => projectNode(n as KubeNodeLike));
  if (!a || !b || !c) throw new Error('the world has three nodes');
  return [
    { type: 'node_add', cluster, seq: 1, timestamp, node: a.name, data: a },
    { type: 'node_update', cluster, seq: 2, timestamp, node: b.name, changes: ['labels', 'taints'], data: b },
    { type: 'node_delete', cluster, seq: 3, timestamp, node: c.name, data: { uid: c.uid } },
    { type: 'pod_counts', cluster, seq: 4, timestamp, data: { counts: { [a.name]: 7, [b.name]: 0 } } },
    { type: 'cluster_status', cluster, seq: 5, timestamp, data: { status: 'ready', nodeCount: 2 } },
  ];
}

describe('envelopesJson', () => {
  it('encodes every kind of envelope as JSON.stringify does', () => {
    const envelopes = everyKind();
    expect(JSON.parse(envelopesJson(envelopes))).toEqual(JSON.parse(JSON.stringify(envelopes)));
    expect(envelopesJson([])).toBe('[]');
  });

  it('encodes a snapshot once and reuses it in every batch that carries it', () => {
    const envelopes = everyKind();
    const first = envelopesJson(envelopes);
    // A batch built later carries the same snapshot objects: their encoding is reused,
    // whatever changes around them (the envelope's seq, its aspects).
    const later = envelopes.map((e) => ({ ...e, seq: e.seq + 10 }));
    expect(JSON.parse(envelopesJson(later))).toEqual(JSON.parse(JSON.stringify(later)));
    expect(envelopesJson(envelopes)).toBe(first);
    // Snapshots are never modified once received; one that were would show that its
    // first encoding is what every later batch carries, and a new object is encoded anew.
    const snapshot = envelopes[0]?.type === 'node_add' ? envelopes[0].data : undefined;
    if (!snapshot) throw new Error('the first envelope adds a node');
    snapshot.labels = { ...snapshot.labels, 'knm.test/after': 'yes' };
    expect(envelopesJson(envelopes)).toBe(first);
    const renewed = envelopes.map((e) => (e.type === 'node_add' ? { ...e, data: { ...e.data } } : e));
    expect(envelopesJson(renewed)).toContain('"knm.test/after":"yes"');
  });

  it("measures a batch's JSON length exactly", () => {
    const envelopes = everyKind();
    const batch: BatchMessage = { type: 'batch', cluster, fromSeq: 0, seq: 5, envelopes };
    expect(batchJsonLength(batch, envelopesJson(envelopes))).toBe(JSON.stringify(batch).length);
    const live: BatchMessage = { ...batch, fromSeq: 3, live: true };
    expect(batchJsonLength(live, envelopesJson(envelopes))).toBe(JSON.stringify(live).length);
  });
});
