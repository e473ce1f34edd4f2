import { describe, expect, it } from 'vitest';
import type { BatchMessage, ClusterName, Envelope, NodeSnapshot } from '@knm/contracts';
import { ClusterView, type ApplyOutcome } from './cluster-view.js';

const cluster = 'dev' as ClusterName;
const at = '2026-11-22T10:00:00.000Z';

function node(name: string, labels: Record<string, string> = {}): NodeSnapshot {
  return {
    name,
    uid: `uid-${name}`,
    resourceVersion: '1',
    creationTimestamp: at,
    labels,
    annotations: {},
    taints: [],
    unschedulable: false,
    roles: [],
    ready: 'True',
    conditions: [],
    addresses: [],
    capacity: { pods: '110' },
    allocatable: { pods: '110' },
    nodeInfo: {
      kubeletVersion: '',
      osImage: '',
      kernelVersion: '',
      containerRuntimeVersion: '',
      architecture: '',
      operatingSystem: '',
    },
    podCIDRs: [],
  };
}

const add = (seq: number, name: string): Envelope => ({
  type: 'node_add',
  cluster,
  node: name,
  seq,
  timestamp: at,
  data: node(name),
});
const update = (seq: number, name: string, labels: Record<string, string>): Envelope => ({
  type: 'node_update',
  cluster,
  node: name,
  seq,
  timestamp: at,
  changes: ['labels'],
  data: node(name, labels),
});
const del = (seq: number, name: string): Envelope => ({
  type: 'node_delete',
  cluster,
  node: name,
  seq,
  timestamp: at,
  data: { uid: `uid-${name}` },
});
const pods = (seq: number, counts: Record<string, number>): Envelope => ({
  type: 'pod_counts',
  cluster,
  seq,
  timestamp: at,
  data: { counts },
});
const resync = (seq: number, reason: 'rebuild' | 'replay_unavailable'): Envelope => ({
  type: 'resync',
  cluster,
  seq,
  timestamp: at,
  data: { reason, epoch: 2 },
});

function loaded(): ClusterView {
  const view = new ClusterView(cluster);
  view.load({ seq: 10, nodes: [{ ...node('a'), podCount: 3, podCapacity: 110 }] });
  return view;
}

describe('ClusterView.apply', () => {
  const cases: [string, Envelope[], ApplyOutcome[], number][] = [
    ['next seq applies', [add(11, 'b')], ['applied'], 11],
    ['old seq is a duplicate', [update(10, 'a', { x: '1' })], ['duplicate'], 10],
    ['same envelope twice', [add(11, 'b'), add(11, 'b')], ['applied', 'duplicate'], 11],
    ['a jump is a gap and changes nothing', [add(13, 'b')], ['gap'], 10],
    ['stream resync (rebuild) at the next seq', [resync(11, 'rebuild')], ['resync'], 10],
    ['stream resync already seen', [resync(9, 'rebuild')], ['duplicate'], 10],
    ['gateway resync always reloads', [resync(3, 'replay_unavailable')], ['resync'], 10],
  ];
  it.each(cases)('%s', (_name, envelopes, outcomes, seq) => {
    const view = loaded();
    expect(envelopes.map((e) => view.apply(e))).toEqual(outcomes);
    expect(view.seq).toBe(seq);
  });

  it('keeps nodes and pod counts consistent through add, update, pod counts and delete', () => {
    const view = loaded();
    for (const e of [add(11, 'b'), pods(12, { b: 7, a: 0 }), update(13, 'b', { zone: 'x' }), del(14, 'a')]) {
      expect(view.apply(e)).toBe('applied');
    }
    expect(view.nodes().map((n) => [n.name, n.podCount, n.labels])).toEqual([['b', 7, { zone: 'x' }]]);
    expect(view.podCounts()).toEqual({ b: 7 });
    expect(view.seq).toBe(14);
  });

  it('load replaces everything', () => {
    const view = loaded();
    view.apply(add(11, 'b'));
    view.load({ seq: 20, nodes: [{ ...node('c'), podCount: 0, podCapacity: 110 }] });
    expect(view.nodes().map((n) => n.name)).toEqual(['c']);
    expect(view.podCounts()).toEqual({});
    expect(view.seq).toBe(20);
  });
});

describe('ClusterView.applyBatch', () => {
  const batch = (fromSeq: number, seq: number, envelopes: Envelope[]): BatchMessage => ({
    type: 'batch',
    cluster,
    fromSeq,
    seq,
    envelopes,
  });

  it("applies a batch from the view's seq whole, ignoring the folded envelopes' own seqs", () => {
    const view = loaded();
    expect(
      view.applyBatch(batch(10, 30, [add(25, 'b'), pods(30, { b: 4, a: 0 }), update(18, 'a', { z: '1' })])),
    ).toBe('applied');
    expect(view.seq).toBe(30);
    expect(view.nodes().map((n) => [n.name, n.podCount, n.labels])).toEqual([
      ['a', 0, { z: '1' }],
      ['b', 4, {}],
    ]);
  });

  it('a view inside [fromSeq, seq] applies it too; below fromSeq is a gap; at or past seq a duplicate', () => {
    const view = loaded();
    expect(view.applyBatch(batch(8, 12, [add(12, 'b')]))).toBe('applied');
    expect(view.seq).toBe(12);
    expect(view.applyBatch(batch(13, 15, [add(15, 'c')]))).toBe('gap');
    expect(view.applyBatch(batch(5, 12, [add(9, 'x')]))).toBe('duplicate');
    expect(view.nodes().map((n) => n.name)).toEqual(['a', 'b']);
  });

  it('a batch from 0 is the whole state: the view is cleared first', () => {
    const view = loaded();
    expect(view.applyBatch(batch(0, 40, [add(40, 'z'), pods(40, { z: 2 })]))).toBe('applied');
    expect(view.nodes().map((n) => [n.name, n.podCount])).toEqual([['z', 2]]);
    expect(view.seq).toBe(40);
  });
});
