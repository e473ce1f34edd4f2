import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ClusterName } from './cluster-name.js';
import type { Envelope } from './envelope.js';
import { EnvelopeFold } from './envelope-fold.js';
import type { NodeAspect } from './node-changes.js';
import type { NodeSnapshot } from './node-snapshot.js';
import type { NodeAllocation, UsageSnapshot } from './node-resources.js';
import { projectNode, type KubeNodeLike } from './project-node.js';

const cluster = 'dev' as ClusterName;
const base = projectNode(
  JSON.parse(readFileSync(new URL('./testdata/worker-node.json', import.meta.url), 'utf8')) as KubeNodeLike,
);
const at = '2026-12-01T10:00:00.000Z';

function node(name: string, label = 'a', uid = `uid-${name}`): NodeSnapshot {
  return { ...base, name, uid, labels: { ...base.labels, v: label } };
}

/** A view as a client keeps it: nodes, counts, allocations, usage, status, seq. */
interface View {
  seq: number;
  nodes: Map<string, NodeSnapshot>;
  counts: Map<string, number>;
  allocations: Map<string, NodeAllocation>;
  usage: UsageSnapshot | undefined;
  status: string | undefined;
}

function emptyView(): View {
  return {
    seq: 0,
    nodes: new Map(),
    counts: new Map(),
    allocations: new Map(),
    usage: undefined,
    status: undefined,
  };
}

const allocation = (cpu: number): NodeAllocation =>
  cpu === 0 ? { requests: {}, limits: {} } : { requests: { cpu }, limits: { cpu: 2 * cpu } };
const usage = (cpu: number): UsageSnapshot => ({
  available: true,
  polledAt: at,
  nodes: { n0: { cpu, memory: 1 } },
});

function applyTo(view: View, e: Envelope): void {
  switch (e.type) {
    case 'node_add':
    case 'node_update':
      view.nodes.set(e.node, e.data);
      break;
    case 'node_delete':
      view.nodes.delete(e.node);
      break;
    case 'pod_counts':
      for (const [n, c] of Object.entries(e.data.counts)) {
        if (c > 0) view.counts.set(n, c);
        else view.counts.delete(n);
      }
      break;
    case 'allocation':
      for (const [n, a] of Object.entries(e.data.nodes)) {
        if (Object.keys(a.requests).length + Object.keys(a.limits).length > 0) view.allocations.set(n, a);
        else view.allocations.delete(n);
      }
      break;
    case 'usage':
      view.usage = e.data;
      break;
    case 'cluster_status':
      view.status = e.data.status;
      break;
    case 'resync':
      throw new Error('not in these runs');
  }
}

function copy(view: View): View {
  return {
    ...view,
    nodes: new Map(view.nodes),
    counts: new Map(view.counts),
    allocations: new Map(view.allocations),
  };
}

describe('EnvelopeFold', () => {
  it('folds a node to its latest state and lists exactly the aspects changed after the reader', () => {
    const fold = new EnvelopeFold(cluster, 0);
    fold.add({ type: 'node_add', cluster, node: 'n1', seq: 1, timestamp: at, data: node('n1') });
    const update = (seq: number, changes: [NodeAspect, ...NodeAspect[]], label: string): Envelope => ({
      type: 'node_update',
      cluster,
      node: 'n1',
      seq,
      timestamp: at,
      changes,
      data: node('n1', label),
    });
    fold.add(update(2, ['labels'], 'b'));
    fold.add(update(3, ['taints'], 'c'));
    fold.add(update(4, ['schedulable'], 'd'));

    expect(fold.since(0)).toEqual([
      { type: 'node_add', cluster, node: 'n1', seq: 4, timestamp: at, data: node('n1', 'd') },
    ]);
    expect(fold.since(1)).toEqual([
      {
        type: 'node_update',
        cluster,
        node: 'n1',
        seq: 4,
        timestamp: at,
        changes: ['labels', 'taints', 'schedulable'],
        data: node('n1', 'd'),
      },
    ]);
    expect(fold.since(3)).toMatchObject([{ type: 'node_update', changes: ['schedulable'] }]);
    expect(fold.since(4)).toEqual([]);
  });

  it('a delete wins over earlier changes, and a re-created node comes back as node_add', () => {
    const fold = new EnvelopeFold(cluster, 10);
    fold.add({
      type: 'node_update',
      cluster,
      node: 'n1',
      seq: 11,
      timestamp: at,
      changes: ['labels'],
      data: node('n1', 'x'),
    });
    fold.add({ type: 'node_delete', cluster, node: 'n1', seq: 12, timestamp: at, data: { uid: 'uid-n1' } });
    expect(fold.since(10)).toEqual([
      { type: 'node_delete', cluster, node: 'n1', seq: 12, timestamp: at, data: { uid: 'uid-n1' } },
    ]);
    fold.add({
      type: 'node_add',
      cluster,
      node: 'n1',
      seq: 13,
      timestamp: at,
      data: node('n1', 'y', 'uid-2'),
    });
    expect(fold.since(10)).toMatchObject([{ type: 'node_add', seq: 13, data: { uid: 'uid-2' } }]);
  });

  it('merges pod counts into one envelope with the latest count per node, and keeps the latest status', () => {
    const fold = new EnvelopeFold(cluster, 0);
    fold.add({ type: 'pod_counts', cluster, seq: 1, timestamp: at, data: { counts: { a: 1, b: 2 } } });
    fold.add({ type: 'cluster_status', cluster, seq: 2, timestamp: at, data: { status: 'degraded' } });
    fold.add({ type: 'pod_counts', cluster, seq: 3, timestamp: at, data: { counts: { b: 0, c: 5 } } });
    fold.add({ type: 'cluster_status', cluster, seq: 4, timestamp: at, data: { status: 'ready' } });
    expect(fold.since(0)).toEqual([
      { type: 'pod_counts', cluster, seq: 3, timestamp: at, data: { counts: { a: 1, b: 0, c: 5 } } },
      { type: 'cluster_status', cluster, seq: 4, timestamp: at, data: { status: 'ready' } },
    ]);
    expect(fold.since(1)).toMatchObject([{ data: { counts: { b: 0, c: 5 } } }, { seq: 4 }]);
  });

  it('merges allocations into one envelope with the latest per node, and keeps only the latest usage', () => {
    const fold = new EnvelopeFold(cluster, 0);
    fold.add({
      type: 'allocation',
      cluster,
      seq: 1,
      timestamp: at,
      data: { nodes: { a: allocation(100), b: allocation(5) } },
    });
    fold.add({ type: 'usage', cluster, seq: 2, timestamp: at, data: usage(10) });
    fold.add({ type: 'allocation', cluster, seq: 3, timestamp: at, data: { nodes: { b: allocation(0) } } });
    fold.add({ type: 'usage', cluster, seq: 4, timestamp: at, data: usage(20) });
    expect(fold.since(0)).toEqual([
      {
        type: 'allocation',
        cluster,
        seq: 3,
        timestamp: at,
        data: { nodes: { a: allocation(100), b: allocation(0) } },
      },
      { type: 'usage', cluster, seq: 4, timestamp: at, data: usage(20) },
    ]);
    expect(fold.since(2)).toMatchObject([{ data: { nodes: { b: allocation(0) } } }, { seq: 4 }]);
    expect(fold.since(4)).toEqual([]);
    expect(fold.pruneTombstones(0)).toBe(1);
    expect(fold.since(3).map((e) => e.type)).toEqual(['usage']);
  });

  it('ignores what it already has, refuses a resync, and refuses readers before its base', () => {
    const fold = new EnvelopeFold(cluster, 5);
    fold.add({ type: 'pod_counts', cluster, seq: 5, timestamp: at, data: { counts: { a: 1 } } });
    expect(fold.size).toBe(0);
    expect(() =>
      fold.add({ type: 'resync', cluster, seq: 6, timestamp: at, data: { reason: 'rebuild', epoch: 1 } }),
    ).toThrow(RangeError);
    expect(() => fold.since(4)).toThrow(/starts after 5/);
  });

  it('pruning tombstones moves the base past the last one forgotten', () => {
    const fold = new EnvelopeFold(cluster, 0);
    let seq = 0;
    for (const name of ['a', 'b', 'c']) {
      fold.add({ type: 'node_add', cluster, node: name, seq: ++seq, timestamp: at, data: node(name) });
    }
    for (const name of ['a', 'b']) {
      fold.add({
        type: 'node_delete',
        cluster,
        node: name,
        seq: ++seq,
        timestamp: at,
        data: { uid: `uid-${name}` },
      });
    }
    fold.add({ type: 'pod_counts', cluster, seq: seq + 1, timestamp: at, data: { counts: { c: 0 } } });
    expect(fold.pruneTombstones(1)).toBe(2);
    expect(fold.base).toBe(5);
    expect(fold.since(5).map((e) => e.type)).toEqual(['pod_counts']);
  });

  it('applied to a view at any seq in [from, latest], it gives the view every envelope would (seeded random runs)', () => {
    let state = 12345;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    for (let run = 0; run < 30; run++) {
      const fold = new EnvelopeFold(cluster, 0);
      const names = ['n0', 'n1', 'n2', 'n3', 'n4'];
      const live = new Set<string>();
      const views: View[] = [emptyView()];
      const truth = emptyView();
      for (let seq = 1; seq <= 60; seq++) {
        const name = names[random(names.length)] as string;
        let e: Envelope;
        // 0-1 pod counts; 2 one of allocation, usage, status; 3-9 a node change.
        const pick = random(10);
        const figure = pick === 2 ? random(3) : -1;
        if (pick < 2) {
          e = { type: 'pod_counts', cluster, seq, timestamp: at, data: { counts: { [name]: random(3) } } };
        } else if (figure === 0) {
          e = {
            type: 'allocation',
            cluster,
            seq,
            timestamp: at,
            data: { nodes: { [name]: allocation(random(3)) } },
          };
        } else if (figure === 1) {
          e = { type: 'usage', cluster, seq, timestamp: at, data: usage(random(100)) };
        } else if (figure === 2) {
          e = {
            type: 'cluster_status',
            cluster,
            seq,
            timestamp: at,
            data: { status: random(2) ? 'ready' : 'degraded' },
          };
        } else if (!live.has(name)) {
          e = { type: 'node_add', cluster, node: name, seq, timestamp: at, data: node(name, String(seq)) };
          live.add(name);
        } else if (pick < 5) {
          e = { type: 'node_delete', cluster, node: name, seq, timestamp: at, data: { uid: `uid-${name}` } };
          live.delete(name);
        } else {
          e = {
            type: 'node_update',
            cluster,
            node: name,
            seq,
            timestamp: at,
            changes: [random(2) ? 'labels' : 'taints'],
            data: node(name, String(seq)),
          };
        }
        fold.add(e);
        applyTo(truth, e);
        truth.seq = seq;
        views.push(copy(truth));
      }
      for (const from of [0, 7, 30, 59, 60]) {
        const view = copy(views[from] as View);
        for (const e of fold.since(from)) applyTo(view, e);
        expect({ ...view, seq: 60 }).toEqual(truth);
      }
    }
  });

  it('stays exact across compactions of its seq index (many changes to few keys)', () => {
    const fold = new EnvelopeFold(cluster, 0);
    fold.add({ type: 'node_add', cluster, node: 'n1', seq: 1, timestamp: at, data: node('n1') });
    let seq = 1;
    for (let i = 0; i < 5_000; i++) {
      fold.add({
        type: 'pod_counts',
        cluster,
        seq: ++seq,
        timestamp: at,
        data: { counts: { n1: i % 7, n2: i % 3 } },
      });
    }
    expect(fold.since(0)).toEqual([
      { type: 'node_add', cluster, node: 'n1', seq: 1, timestamp: at, data: node('n1') },
      { type: 'pod_counts', cluster, seq, timestamp: at, data: { counts: { n1: 4_999 % 7, n2: 4_999 % 3 } } },
    ]);
    expect(fold.since(seq - 1)).toHaveLength(1);
    expect(fold.since(seq)).toEqual([]);
    // Compacted: the estimate stays within about twice the keys however many changes came.
    expect(fold.touchedSince(0)).toBeGreaterThanOrEqual(3);
    expect(fold.touchedSince(0)).toBeLessThan(2 * 3 + 1_024 + 2);
    expect(fold.touchedSince(seq - 1)).toBe(2);
    expect(fold.touchedSince(seq)).toBe(0);
  });

  it('estimates how many keys a reader is behind, growing the further back it is', () => {
    const fold = new EnvelopeFold(cluster, 0);
    for (let i = 1; i <= 50; i++) {
      fold.add({ type: 'node_add', cluster, node: `n${i}`, seq: i, timestamp: at, data: node(`n${i}`) });
    }
    expect(fold.touchedSince(50)).toBe(0);
    expect(fold.touchedSince(40)).toBe(10);
    expect(fold.touchedSince(0)).toBe(50);
    expect(fold.since(40)).toHaveLength(10);
  });
});
