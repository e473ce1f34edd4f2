import {
  isEmptyAllocation,
  toNodeView,
  type BatchMessage,
  type ClusterName,
  type ClusterStatusDataSchema,
  type Envelope,
  type NodeAllocation,
  type NodeSnapshot,
  type NodeUsage,
  type NodeView,
  type ResourceAmounts,
  type UsageSnapshot,
  type UsageStatus,
} from '@knm/contracts';
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

/** A snapshot to load: nodes as REST lists them, at `seq`, with the usage poll their usage comes from. */
export interface ViewSnapshot {
  seq: number;
  nodes: readonly NodeView[];
  usage?: UsageStatus | undefined;
}

/** Gateway-made resync reasons: they do not occupy a seq of the stream, so they always mean "reload". */
const GATEWAY_RESYNCS = new Set(['replay_unavailable']);

/**
 * The allocation behind a REST node's `resources` (the inverse of `nodeResources`):
 * every non-zero request and limit but the pod count. Undefined when there is none.
 */
function allocationOf(view: NodeView): NodeAllocation | undefined {
  const requests: ResourceAmounts = {};
  const limits: ResourceAmounts = {};
  for (const [name, figures] of Object.entries(view.resources)) {
    if (name === 'pods') continue;
    if (figures.requests > 0) requests[name] = figures.requests;
    if (figures.limits > 0) limits[name] = figures.limits;
  }
  const allocation = { requests, limits };
  return isEmptyAllocation(allocation) ? undefined : allocation;
}

/** The usage behind a REST node's `resources`, when it has any. */
function usageOf(view: NodeView): NodeUsage | undefined {
  const cpu = view.resources['cpu']?.usage;
  const memory = view.resources['memory']?.usage;
  return cpu === undefined || memory === undefined ? undefined : { cpu, memory };
}

/**
 * The client's local copy of one cluster: nodes, pod counts, allocation (what each
 * node's pods request and limit), the last usage poll, status and the seq it
 * reflects. Pure state, no I/O. `load` replaces it with a snapshot; `apply` applies
 * one envelope if and only if its seq is exactly the next one, so applying the same
 * stream twice, or out of order, can never corrupt the view: duplicates are
 * ignored and a jump is reported as a gap. Every node it returns is what the REST
 * API answers for the same seq, `resources` included.
 */
export class ClusterView {
  private nodeMap = new Map<string, NodeSnapshot>();
  private counts = new Map<string, number>();
  private allocationMap = new Map<string, NodeAllocation>();
  private usageSnapshot: UsageSnapshot | undefined;
  private statusData: ClusterStatusData | undefined;
  /** Seq of the last envelope reflected (the snapshot's seq right after `load`). */
  seq = 0;
  /** Whether a snapshot was loaded. */
  loaded = false;

  constructor(readonly cluster: ClusterName) {}

  /**
   * Replaces the view with a snapshot read at `seq`. Allocation and usage are taken
   * back from each node's `resources` (and the usage poll's status from `usage`).
   */
  load(snapshot: ViewSnapshot): void {
    this.clear();
    const usage: Record<string, NodeUsage> = {};
    for (const view of snapshot.nodes) {
      const { podCount, podCapacity: _capacity, resources: _resources, ...node } = view;
      this.nodeMap.set(node.name, node);
      if (podCount > 0) this.counts.set(node.name, podCount);
      const allocation = allocationOf(view);
      if (allocation) this.allocationMap.set(node.name, allocation);
      const used = usageOf(view);
      if (used) usage[node.name] = used;
    }
    const status = snapshot.usage;
    if (status) this.usageSnapshot = status.available ? { ...status, nodes: usage } : status;
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
   *
   * A batch in parts is applied part by part, and the view stays where it was until
   * the last (`more` unset): a whole state is cleared before its part 0 and is at 0
   * (being filled) until then.
   */
  applyBatch(batch: BatchMessage): ApplyOutcome {
    if (batch.fromSeq === 0) {
      if ((batch.part ?? 0) === 0) {
        this.clear();
        this.seq = 0;
      }
      this.loaded = true;
    } else if (batch.seq <= this.seq) {
      return 'duplicate';
    } else if (this.seq < batch.fromSeq) {
      return 'gap';
    }
    for (const envelope of batch.envelopes) this.applyState(envelope);
    if (!batch.more) this.seq = batch.seq;
    return 'applied';
  }

  private clear(): void {
    this.nodeMap = new Map();
    this.counts = new Map();
    this.allocationMap = new Map();
    this.usageSnapshot = undefined;
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
      case 'allocation':
        // Kept apart from nodes, like pod counts: the pods may outlive their node briefly.
        for (const [name, allocation] of Object.entries(envelope.data.nodes)) {
          if (isEmptyAllocation(allocation)) this.allocationMap.delete(name);
          else this.allocationMap.set(name, allocation);
        }
        break;
      case 'usage':
        this.usageSnapshot = envelope.data;
        break;
      case 'cluster_status':
        this.statusData = envelope.data;
        break;
      case 'resync':
        break;
    }
  }

  /** One node with its pod count, capacity and resources. */
  node(name: string): NodeView | undefined {
    const node = this.nodeMap.get(name);
    if (!node) return undefined;
    const podCount = this.counts.get(name) ?? 0;
    const usage = this.usageSnapshot?.available ? this.usageSnapshot.nodes : undefined;
    return toNodeView(
      node,
      podCount,
      this.allocationMap.get(name),
      usage && Object.hasOwn(usage, name) ? usage[name] : undefined,
    );
  }

  /** The names of the nodes in the view, unordered (cheap: no node is built). */
  nodeNames(): string[] {
    return [...this.nodeMap.keys()];
  }

  /** Every node with its pod count, capacity and resources, by name. */
  nodes(): NodeView[] {
    return [...this.nodeMap.keys()].sort().map((name) => this.node(name) as NodeView);
  }

  /** Node name -> pod count (nodes with pods only). */
  podCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Node name -> what its pods request and limit (nodes whose pods take something only). */
  allocations(): Record<string, NodeAllocation> {
    return Object.fromEntries(
      [...this.allocationMap.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }

  /** What `name`'s pods request and limit; undefined when they take nothing. */
  allocation(name: string): NodeAllocation | undefined {
    return this.allocationMap.get(name);
  }

  /** The last usage poll (every node's usage, or why there is none); undefined before the first. */
  get usage(): UsageSnapshot | undefined {
    return this.usageSnapshot;
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
