import type { BatchMessage, ClusterName, Envelope, NodeSnapshot, NodeView } from '@knm/contracts';
import type { ClusterStatusDataSchema } from '@knm/contracts';
import type { z } from 'zod';

/** A cluster's status as the last `cluster_status` envelope said. */
export type ClusterStatusData = z.infer<typeof ClusterStatusDataSchema>;

/** What applying one envelope did. */
export type ApplyOutcome =
  /** Applied: the view is now at the envelope's seq. */
  | 'applied'
  /** Already applied (seq not above the view's): ignored. */
  | 'duplicate'
  /** Envelopes are missing between the view and this one: the view must be reloaded. */
  | 'gap'
  /** The sender says the view must be reloaded (a `resync`). */
  | 'resync';

/** Gateway-made resync reasons: they do not occupy a seq of the stream, so they always mean "reload". */
const GATEWAY_RESYNCS = new Set(['replay_unavailable']);

function podCapacity(node: NodeSnapshot): number | null {
  const raw = node.capacity['pods'];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : null;
}

/**
 * The client's local copy of one cluster: nodes, pod counts, status and the seq it
 * reflects. Pure state, no I/O. `load` replaces it with a snapshot; `apply` applies
 * one envelope if and only if its seq is exactly the next one, so applying the same
 * stream twice, or out of order, can never corrupt the view: duplicates are
 * ignored and a jump is reported as a gap.
 */
export class ClusterView {
  private nodeMap = new Map<string, NodeSnapshot>();
  private counts = new Map<string, number>();
  private statusData: ClusterStatusData | undefined;
  /** Seq of the last envelope reflected (the snapshot's seq right after `load`). */
  seq = 0;
  /** Whether a snapshot was loaded. */
  loaded = false;

  constructor(readonly cluster: ClusterName) {}

  /** Replaces the view with a snapshot read at `seq`. */
  load(snapshot: { seq: number; nodes: readonly NodeView[] }): void {
    this.nodeMap = new Map();
    this.counts = new Map();
    for (const view of snapshot.nodes) {
      const { podCount, podCapacity: _capacity, ...node } = view;
      this.nodeMap.set(node.name, node);
      if (podCount > 0) this.counts.set(node.name, podCount);
    }
    this.seq = snapshot.seq;
    this.loaded = true;
  }

  /** Sets the status from a cluster summary (REST), until a `cluster_status` envelope updates it. */
  setStatus(status: ClusterStatusData | undefined): void {
    this.statusData = status;
  }

  /** Applies `envelope` when it is the next one; see {@link ApplyOutcome}. */
  apply(envelope: Envelope): ApplyOutcome {
    if (envelope.type === 'resync') {
      if (GATEWAY_RESYNCS.has(envelope.data.reason)) return 'resync';
      if (envelope.seq <= this.seq) return 'duplicate';
      return 'resync';
    }
    if (envelope.seq <= this.seq) return 'duplicate';
    if (envelope.seq !== this.seq + 1) return 'gap';
    this.applyState(envelope);
    this.seq = envelope.seq;
    return 'applied';
  }

  /**
   * Applies a folded batch when the view is within `[fromSeq, seq]`: its envelopes
   * in order (their own seqs do not matter), then the view is at `seq`. A batch from
   * 0 is the whole state: the view is cleared first. Below `fromSeq`: a gap.
   */
  applyBatch(batch: BatchMessage): ApplyOutcome {
    if (batch.fromSeq === 0) {
      this.nodeMap = new Map();
      this.counts = new Map();
      this.loaded = true;
    } else if (batch.seq <= this.seq) {
      return 'duplicate';
    } else if (this.seq < batch.fromSeq) {
      return 'gap';
    }
    for (const envelope of batch.envelopes) this.applyState(envelope);
    this.seq = batch.seq;
    return 'applied';
  }

  private applyState(envelope: Envelope): void {
    switch (envelope.type) {
      case 'node_add':
      case 'node_update':
        this.nodeMap.set(envelope.node, envelope.data);
        break;
      case 'node_delete':
        this.nodeMap.delete(envelope.node);
        break;
      case 'pod_counts':
        for (const [name, count] of Object.entries(envelope.data.counts)) {
          if (count > 0) this.counts.set(name, count);
          else this.counts.delete(name);
        }
        break;
      case 'cluster_status':
        this.statusData = envelope.data;
        break;
      case 'resync':
        break;
    }
  }

  /** One node with its pod count and capacity. */
  node(name: string): NodeView | undefined {
    const node = this.nodeMap.get(name);
    return node && { ...node, podCount: this.counts.get(name) ?? 0, podCapacity: podCapacity(node) };
  }

  /** Every node with its pod count and capacity, by name. */
  nodes(): NodeView[] {
    return [...this.nodeMap.keys()].sort().map((name) => this.node(name) as NodeView);
  }

  /** Node name -> pod count (nodes with pods only). */
  podCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** The last known status. */
  get status(): ClusterStatusData | undefined {
    return this.statusData;
  }

  /** Number of nodes. */
  get size(): number {
    return this.nodeMap.size;
  }
}
