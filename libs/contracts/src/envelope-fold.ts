import type { ClusterName } from './cluster-name.js';
import type { Envelope, EnvelopeOf } from './envelope.js';
import { NODE_ASPECTS, type NodeAspect } from './node-changes.js';
import type { NodeSnapshot } from './node-snapshot.js';
import { isEmptyAllocation, type NodeAllocation } from './node-resources.js';

/** The latest state of one node as folded, with the seq at which each part of it last changed. */
interface NodeEntry {
  /** Seq of the node's last envelope. */
  seq: number;
  timestamp: string;
  /** The node after its last envelope, or undefined when that was a delete. */
  data: NodeSnapshot | undefined;
  /** uid of the deleted node (for `node_delete`). */
  uid: string;
  /** Seq of the last `node_add`; a reader behind it gets `node_add`, not `node_update`. */
  addedSeq: number;
  /** Per aspect, the seq of the last `node_update` that changed it. */
  aspectSeqs: Partial<Record<NodeAspect, number>>;
}

/** The latest value of a per-node figure (pod count, allocation) and the envelope that set it. */
interface FigureEntry<T> {
  seq: number;
  timestamp: string;
  value: T;
}

/** What a {@link Touch} touched: a node, its pod count or its allocation. */
type TouchKind = 'node' | 'count' | 'allocation';

/** One change in seq order: the key it touched. */
interface Touch {
  seq: number;
  node: string;
  kind: TouchKind;
}

/**
 * Folds a run of one cluster's envelopes into the latest state per key (node,
 * node's pod count, node's allocation, usage, cluster status), as log compaction
 * does, and answers "what changed after seq X" with at most one envelope per node,
 * one `pod_counts`, one `allocation`, one `usage` and one `cluster_status`. Applying that answer in order to a view at any seq in
 * `[X, latestSeq]` leaves it equal to a view that applied every envelope one by one
 * up to `latestSeq`: each folded envelope carries the key's latest state, and the
 * aspects a `node_update` lists are exactly those changed after X.
 *
 * Complete only for readers at or after {@link EnvelopeFold.base}: envelopes at or
 * before it were never added (or their tombstones were pruned). `resync` envelopes
 * are not folded: a caller that meets one starts a new fold.
 */
export class EnvelopeFold {
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly counts = new Map<string, FigureEntry<number>>();
  private readonly allocations = new Map<string, FigureEntry<NodeAllocation>>();
  /**
   * Every key touched, in seq order (a key may stand several times: only its last
   * touch is current). `since(X)` walks it from the first touch after X, so a reader
   * a few changes behind costs those changes, not the cluster's size. Compacted when
   * stale touches outnumber the keys.
   */
  private touches: Touch[] = [];
  private status: EnvelopeOf<'cluster_status'> | undefined;
  private usage: EnvelopeOf<'usage'> | undefined;
  private baseSeq: number;
  private latest: number;

  /** `base`: the seq the fold starts after (everything after it must be added, in order). */
  constructor(
    readonly cluster: ClusterName,
    base: number,
  ) {
    this.baseSeq = base;
    this.latest = base;
  }

  /** Readers at this seq or later get an exact answer from {@link EnvelopeFold.since}. */
  get base(): number {
    return this.baseSeq;
  }

  /** Seq of the last envelope added (the base when none was). */
  get latestSeq(): number {
    return this.latest;
  }

  /** Keys held (nodes, deleted nodes, pod counts, allocations): what the fold's memory grows with. */
  get size(): number {
    return (
      this.nodes.size +
      this.counts.size +
      this.allocations.size +
      (this.status ? 1 : 0) +
      (this.usage ? 1 : 0)
    );
  }

  /**
   * Adds the next envelope. Envelopes at or before the latest seq are ignored (a
   * duplicate); a `resync` is refused (RangeError): it cannot be folded.
   */
  add(envelope: Envelope): void {
    if (envelope.seq <= this.latest) return;
    switch (envelope.type) {
      case 'node_add':
      case 'node_update':
        this.putNode(envelope);
        break;
      case 'node_delete': {
        const entry = this.nodes.get(envelope.node);
        this.nodes.set(envelope.node, {
          seq: envelope.seq,
          timestamp: envelope.timestamp,
          data: undefined,
          uid: envelope.data.uid,
          addedSeq: entry?.addedSeq ?? 0,
          aspectSeqs: {},
        });
        this.touch(envelope.seq, envelope.node, 'node');
        break;
      }
      case 'pod_counts':
        for (const [node, count] of Object.entries(envelope.data.counts)) {
          this.counts.set(node, { seq: envelope.seq, timestamp: envelope.timestamp, value: count });
          this.touch(envelope.seq, node, 'count');
        }
        break;
      case 'allocation':
        for (const [node, allocation] of Object.entries(envelope.data.nodes)) {
          this.allocations.set(node, { seq: envelope.seq, timestamp: envelope.timestamp, value: allocation });
          this.touch(envelope.seq, node, 'allocation');
        }
        break;
      case 'usage':
        this.usage = envelope;
        break;
      case 'cluster_status':
        this.status = envelope;
        break;
      case 'resync':
        throw new RangeError(`a resync (seq ${envelope.seq}) cannot be folded`);
    }
    this.latest = envelope.seq;
  }

  /**
   * What changed after `afterSeq`, folded, in the order of each key's last change:
   * `node_add` (added after it), `node_update` (with the aspects changed after it),
   * `node_delete`, one `pod_counts`, one `allocation`, the latest `usage` and the
   * latest `cluster_status`. Each envelope
   * keeps the seq and timestamp of its key's last change. RangeError when
   * `afterSeq` is before {@link EnvelopeFold.base} (the answer would miss changes).
   */
  since(afterSeq: number): Envelope[] {
    if (afterSeq < this.baseSeq) {
      throw new RangeError(`the fold of ${this.cluster} starts after ${this.baseSeq}, not ${afterSeq}`);
    }
    const out: Envelope[] = [];
    const counts = new FigureRun<number>();
    const allocations = new FigureRun<NodeAllocation>();
    for (let i = this.firstTouchAfter(afterSeq); i < this.touches.length; i++) {
      const t = this.touches[i] as Touch;
      if (t.kind === 'count') counts.take(t, this.counts.get(t.node));
      else if (t.kind === 'allocation') allocations.take(t, this.allocations.get(t.node));
      else {
        const entry = this.nodes.get(t.node);
        if (entry?.seq !== t.seq) continue; // touched again later
        out.push(this.nodeEnvelope(t.node, entry, afterSeq));
      }
    }
    const base = { cluster: this.cluster };
    if (counts.seq > 0) {
      out.push({
        ...base,
        type: 'pod_counts',
        seq: counts.seq,
        timestamp: counts.time,
        data: { counts: counts.values },
      });
    }
    if (allocations.seq > 0) {
      out.push({
        ...base,
        type: 'allocation',
        seq: allocations.seq,
        timestamp: allocations.time,
        data: { nodes: allocations.values },
      });
    }
    if (this.usage && this.usage.seq > afterSeq) out.push(this.usage);
    if (this.status && this.status.seq > afterSeq) out.push(this.status);
    return out.sort((a, b) => a.seq - b.seq);
  }

  /**
   * About how many keys {@link EnvelopeFold.since} answers `afterSeq` with, without
   * building the answer: the touches after it (a key touched several times since may
   * count more than once until the touches are compacted, so it is an upper bound, at
   * most about twice the keys). A binary search: cheap enough to compare readers.
   */
  touchedSince(afterSeq: number): number {
    return this.touches.length - this.firstTouchAfter(afterSeq);
  }

  /**
   * Forgets deleted nodes, zero pod counts and empty allocations (tombstones) beyond `max`, oldest
   * first, and moves the base past the last one forgotten: a reader behind it would
   * miss that delete. Returns how many were forgotten.
   */
  pruneTombstones(max: number): number {
    const dead: { seq: number; drop: () => void }[] = [];
    for (const [node, entry] of this.nodes) {
      if (!entry.data) dead.push({ seq: entry.seq, drop: () => this.nodes.delete(node) });
    }
    for (const [node, entry] of this.counts) {
      if (entry.value === 0) dead.push({ seq: entry.seq, drop: () => this.counts.delete(node) });
    }
    for (const [node, entry] of this.allocations) {
      if (isEmptyAllocation(entry.value))
        dead.push({ seq: entry.seq, drop: () => this.allocations.delete(node) });
    }
    if (dead.length <= max) return 0;
    dead.sort((a, b) => a.seq - b.seq);
    const excess = dead.slice(0, dead.length - max);
    for (const d of excess) {
      d.drop();
      this.baseSeq = Math.max(this.baseSeq, d.seq);
    }
    this.compact();
    return excess.length;
  }

  /** Records a touch; call it after the key's entry was stored (a compaction rebuilds from the entries). */
  private touch(seq: number, node: string, kind: TouchKind): void {
    this.touches.push({ seq, node, kind });
    if (this.touches.length > 2 * (this.nodes.size + this.counts.size + this.allocations.size) + 1_024)
      this.compact();
  }

  /** Keeps only each key's last touch, in seq order. */
  private compact(): void {
    const current: Touch[] = [];
    for (const [node, entry] of this.nodes) current.push({ seq: entry.seq, node, kind: 'node' });
    for (const [node, entry] of this.counts) current.push({ seq: entry.seq, node, kind: 'count' });
    for (const [node, entry] of this.allocations) current.push({ seq: entry.seq, node, kind: 'allocation' });
    this.touches = current.sort((a, b) => a.seq - b.seq);
  }

  /** Index of the first touch with seq > afterSeq (binary search: touches are in seq order). */
  private firstTouchAfter(afterSeq: number): number {
    let lo = 0;
    let hi = this.touches.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.touches[mid] as Touch).seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private putNode(envelope: EnvelopeOf<'node_add'> | EnvelopeOf<'node_update'>): void {
    const entry = this.nodes.get(envelope.node);
    const aspectSeqs = envelope.type === 'node_add' ? {} : { ...(entry?.aspectSeqs ?? {}) };
    if (envelope.type === 'node_update')
      for (const aspect of envelope.changes) aspectSeqs[aspect] = envelope.seq;
    this.nodes.set(envelope.node, {
      seq: envelope.seq,
      timestamp: envelope.timestamp,
      data: envelope.data,
      uid: envelope.data.uid,
      // An update of a node this fold never saw added keeps addedSeq 0: readers had it.
      addedSeq: envelope.type === 'node_add' ? envelope.seq : (entry?.addedSeq ?? 0),
      aspectSeqs,
    });
    this.touch(envelope.seq, envelope.node, 'node');
  }

  private nodeEnvelope(node: string, entry: NodeEntry, afterSeq: number): Envelope {
    const base = { cluster: this.cluster, seq: entry.seq, timestamp: entry.timestamp, node };
    if (!entry.data) return { ...base, type: 'node_delete', data: { uid: entry.uid } };
    if (entry.addedSeq > afterSeq) return { ...base, type: 'node_add', data: entry.data };
    const changes = NODE_ASPECTS.filter((a) => (entry.aspectSeqs[a] ?? 0) > afterSeq);
    return {
      ...base,
      type: 'node_update',
      changes: changes as [NodeAspect, ...NodeAspect[]],
      data: entry.data,
    };
  }
}

/** The per-node figures of one kind gathered by `since`: each node's latest value, at the newest seq among them. */
class FigureRun<T> {
  readonly values: Record<string, T> = {};
  seq = 0;
  time = '';

  /** Takes the entry a touch points at, unless the key was touched again later. */
  take(touch: Touch, entry: FigureEntry<T> | undefined): void {
    if (entry?.seq !== touch.seq) return;
    this.values[touch.node] = entry.value;
    if (entry.seq > this.seq) {
      this.seq = entry.seq;
      this.time = entry.timestamp;
    }
  }
}
