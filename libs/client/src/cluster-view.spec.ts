import { describe, expect, it } from 'vitest';
import {
  EnvelopeFold,
  isEmptyAllocation,
  toNodeView,
  usageStatus,
  type BatchMessage,
  type ClusterName,
  type Envelope,
  type NodeAllocation,
  type NodeSnapshot,
  type UsageSnapshot,
} from '@knm/contracts';
import { ClusterView, type ApplyOutcome } from './cluster-view.js';

const cluster = 'dev' as ClusterName;

const at = '2026-11-22T10:00:00.000Z';

function node(
  name: string,
  labels: Record<string, string> = {},
  allocatable: Record<string, string> = { cpu: '4', memory: '16Gi', pods: '110' },
): NodeSnapshot {
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
    allocatable,
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

const add = (seq: number, name: string, data = node(name)): Envelope => ({
  type: 'node_add',
  cluster,
  node: name,
  seq,
  timestamp: at,
  data,
});
const update = (
  seq: number,
  name: string,
  labels: Record<string, string>,
  data = node(name, labels),
): Envelope => ({
  type: 'node_update',
  cluster,
  node: name,
  seq,
  timestamp: at,
  changes: ['labels'],
  data,
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
const allocation = (seq: number, nodes: Record<string, NodeAllocation>): Envelope => ({
  type: 'allocation',
  cluster,
  seq,
  timestamp: at,
  data: { nodes },
});
const usage = (seq: number, data: UsageSnapshot): Envelope => ({
  type: 'usage',
  cluster,
  seq,
  timestamp: at,
  data,
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
  view.load({ seq: 10, nodes: [toNodeView(node('a'), 3)] });
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
    view.load({ seq: 20, nodes: [toNodeView(node('c'), 0)] });
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
  /** The view after the batch of the first test, whole or in parts: b added with 4 pods, a relabelled. */
  const FOLDED = [
    ['a', 0, { z: '1' }],
    ['b', 4, {}],
  ];
  /** Part `index` of `whole` (a batch in parts), with `more` unless it is the last. */
  const partOf = (whole: BatchMessage, index: number, last: boolean): BatchMessage => ({
    ...whole,
    part: index,
    ...(last ? {} : { more: true as const }),
  });

  it("applies a batch from the view's seq whole, ignoring the folded envelopes' own seqs", () => {
    const view = loaded();
    expect(
      view.applyBatch(batch(10, 30, [add(25, 'b'), pods(30, { b: 4, a: 0 }), update(18, 'a', { z: '1' })])),
    ).toBe('applied');
    expect(view.seq).toBe(30);
    expect(view.nodes().map((n) => [n.name, n.podCount, n.labels])).toEqual(FOLDED);
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

  it('a batch in parts is applied part by part; the view is at its seq only after the last part', () => {
    const view = loaded();
    expect(view.applyBatch(partOf(batch(10, 30, [add(25, 'b'), pods(30, { b: 4 })]), 0, false))).toBe(
      'applied',
    );
    expect(view.seq).toBe(10);
    expect(view.node('b')?.podCount).toBe(4);
    expect(view.applyBatch(partOf(batch(10, 30, [pods(30, { a: 0 })]), 1, false))).toBe('applied');
    expect(view.seq).toBe(10);
    expect(view.applyBatch(partOf(batch(10, 30, [update(18, 'a', { z: '1' })]), 2, true))).toBe('applied');
    expect(view.seq).toBe(30);
    expect(view.nodes().map((n) => [n.name, n.podCount, n.labels])).toEqual(FOLDED);
  });

  it('a whole state in parts is cleared before part 0 only, and is at 0 until its last part', () => {
    const view = loaded();
    expect(view.applyBatch(partOf(batch(0, 40, [add(40, 'y')]), 0, false))).toBe('applied');
    expect(view.seq).toBe(0);
    expect(view.nodes().map((n) => n.name)).toEqual(['y']);
    expect(view.applyBatch(partOf(batch(0, 40, [add(40, 'z'), pods(40, { z: 2 })]), 1, true))).toBe(
      'applied',
    );
    expect(view.nodes().map((n) => [n.name, n.podCount])).toEqual([
      ['y', 0],
      ['z', 2],
    ]);
    expect(view.seq).toBe(40);
  });
});

describe('ClusterView resources', () => {
  const none: NodeAllocation = { requests: {}, limits: {} };

  it('applies allocation and usage envelopes to every node it returns', () => {
    const view = loaded();
    const polled = { available: true as const, polledAt: at, nodes: { a: { cpu: 1_000, memory: 2 ** 30 } } };
    for (const e of [
      allocation(11, { a: { requests: { cpu: 2_000, 'nvidia.com/gpu': 1 }, limits: { memory: 2 ** 32 } } }),
      usage(12, polled),
    ]) {
      expect(view.apply(e)).toBe('applied');
    }
    expect(view.node('a')?.resources).toEqual({
      cpu: { allocatable: 4_000, requests: 2_000, limits: 0, usage: 1_000 },
      memory: { allocatable: 16 * 2 ** 30, requests: 0, limits: 2 ** 32, usage: 2 ** 30 },
      pods: { allocatable: 110, requests: 3, limits: 3 },
      'nvidia.com/gpu': { allocatable: 0, requests: 1, limits: 0 },
    });
    expect(view.usage).toEqual(polled);
    // Every pod left the node; metrics went away.
    view.apply(allocation(13, { a: none }));
    view.apply(usage(14, { available: false, polledAt: at, reason: 'no metrics API' }));
    expect(view.allocation('a')).toBeUndefined();
    expect(view.node('a')?.resources['cpu']).toEqual({ allocatable: 4_000, requests: 0, limits: 0 });
    expect(view.usage).toEqual({ available: false, polledAt: at, reason: 'no metrics API' });
  });

  it('takes allocation and usage back from a REST snapshot', () => {
    const alloc = { requests: { cpu: 500 }, limits: { cpu: 1_000, memory: 2 ** 30 } };
    const polled: UsageSnapshot = {
      available: true,
      polledAt: at,
      window: '15s',
      nodes: { a: { cpu: 7, memory: 9 } },
    };
    const rest = [toNodeView(node('a'), 2, alloc, { cpu: 7, memory: 9 }), toNodeView(node('b'), 0)];
    const view = new ClusterView(cluster);
    view.load({ seq: 5, nodes: rest, usage: usageStatus(polled) });
    expect(view.nodes()).toEqual(rest);
    expect(view.allocation('a')).toEqual(alloc);
    expect(view.allocation('b')).toBeUndefined();
    expect(view.usage).toEqual(polled);
  });

  it('a whole-state batch clears allocation and usage too', () => {
    const view = loaded();
    view.apply(allocation(11, { a: { requests: { cpu: 1 }, limits: {} } }));
    view.apply(usage(12, { available: true, polledAt: at, nodes: { a: { cpu: 1, memory: 1 } } }));
    const batch: BatchMessage = { type: 'batch', cluster, fromSeq: 0, seq: 20, envelopes: [add(20, 'a')] };
    expect(view.applyBatch(batch)).toBe('applied');
    expect(view.allocation('a')).toBeUndefined();
    expect(view.usage).toBeUndefined();
    expect(view.node('a')?.resources['cpu']).toEqual({ allocatable: 4_000, requests: 0, limits: 0 });
  });
});

/**
 * The store as the watcher writes it (nodes, pod counts, allocation, usage) after
 * each envelope, and the REST answer over it: what every client view must equal.
 */
class Truth {
  nodes = new Map<string, NodeSnapshot>();
  counts: Record<string, number> = {};
  allocation: Record<string, NodeAllocation> = {};
  usage: UsageSnapshot | undefined;
  seq = 0;

  apply(e: Envelope): void {
    this.seq = e.seq;
    switch (e.type) {
      case 'node_add':
      case 'node_update':
        this.nodes.set(e.node, e.data);
        break;
      case 'node_delete':
        this.nodes.delete(e.node);
        break;
      case 'pod_counts':
        for (const [n, c] of Object.entries(e.data.counts)) {
          if (c > 0) this.counts[n] = c;
          else delete this.counts[n];
        }
        break;
      case 'allocation':
        for (const [n, a] of Object.entries(e.data.nodes)) {
          if (isEmptyAllocation(a)) delete this.allocation[n];
          else this.allocation[n] = a;
        }
        break;
      case 'usage':
        this.usage = e.data;
        break;
      default:
        break;
    }
  }

  rest() {
    const usage = this.usage?.available ? this.usage.nodes : {};
    const nodes = [...this.nodes.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((n) => toNodeView(n, this.counts[n.name] ?? 0, this.allocation[n.name], usage[n.name]));
    return { seq: this.seq, nodes, usage: this.usage && usageStatus(this.usage) };
  }
}

/**
 * A seeded stream of every kind of envelope over a few nodes (mulberry32). Pods sit
 * on existing nodes, and a node's delete is followed by its pods going (the pod
 * garbage collector): a snapshot lists only existing nodes, so counts and
 * allocation left on a deleted node are not in it.
 */
function randomStream(seed: number, length: number): Envelope[] {
  let state = seed;
  const random = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const names = ['n-0', 'n-1', 'n-2', 'n-3', 'n-4'];
  const shapes: Record<string, string>[] = [
    { cpu: '4', memory: '16Gi', pods: '110' },
    { cpu: '8', memory: '32Gi', pods: '110', 'nvidia.com/gpu': '2' },
    { pods: '110' },
  ];
  const none = (): NodeAllocation => ({ requests: {}, limits: {} });
  const existing = new Set<string>();
  const out: Envelope[] = [];
  let seq = 0;
  while (seq < length) {
    const name = pick(names);
    const kind = random();
    seq += 1;
    if (!existing.has(name) || kind < 0.1) {
      existing.add(name);
      out.push(add(seq, name, node(name, {}, pick(shapes))));
    } else if (kind < 0.3) {
      out.push(update(seq, name, {}, node(name, { step: String(seq) }, pick(shapes))));
    } else if (kind < 0.4) {
      existing.delete(name);
      out.push(del(seq, name), pods(seq + 1, { [name]: 0 }), allocation(seq + 2, { [name]: none() }));
      seq += 2;
    } else if (kind < 0.55) {
      out.push(pods(seq, { [name]: Math.floor(random() * 4) }));
    } else if (kind < 0.85) {
      const a =
        random() < 0.2
          ? none()
          : {
              requests: {
                cpu: Math.ceil(random() * 6_000),
                ...(random() < 0.3 ? { 'nvidia.com/gpu': 1 } : {}),
              },
              limits: random() < 0.5 ? { memory: Math.ceil(random() * 2 ** 34) } : {},
            };
      out.push(allocation(seq, { [name]: a }));
    } else if (kind < 0.95) {
      const nodes = Object.fromEntries(
        names
          .filter(() => random() < 0.7)
          .map((n) => [n, { cpu: Math.floor(random() * 5_000), memory: 2 ** 30 }]),
      );
      out.push(usage(seq, { available: true, polledAt: `t${seq}`, window: '15s', nodes }));
    } else out.push(usage(seq, { available: false, polledAt: `t${seq}`, reason: 'no metrics API' }));
  }
  return out;
}

describe('ClusterView equals the REST answer after any sequence', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: live envelopes, loads midway, and folded batches', (seed) => {
    const stream = randomStream(seed, 120);
    const last = (stream.at(-1) as Envelope).seq;
    const truth = new Truth();
    const live = new ClusterView(cluster);
    live.load(truth.rest());
    const truths = [truth.rest()];
    for (const e of stream) {
      truth.apply(e);
      expect(live.apply(e)).toBe('applied');
      truths.push(truth.rest());
      expect(live.nodes()).toEqual(truth.rest().nodes);
    }
    // A client that loaded REST at any seq and then got the rest folded into one batch.
    const fold = new EnvelopeFold(cluster, 0);
    for (const e of stream) fold.add(e);
    for (const from of [0, 1, 30, 77, last - 1]) {
      const view = new ClusterView(cluster);
      view.load(truths[from] as ReturnType<Truth['rest']>);
      const batch: BatchMessage = {
        type: 'batch',
        cluster,
        fromSeq: from,
        seq: last,
        envelopes: fold.since(from),
      };
      expect(view.applyBatch(batch)).toBe('applied');
      expect(view.nodes()).toEqual(truth.rest().nodes);
      // The usage poll itself, not just what the nodes show of it.
      expect(view.usage && usageStatus(view.usage)).toEqual(truth.rest().usage);
    }
    expect(live.usage).toEqual(truth.usage);
  });
});
