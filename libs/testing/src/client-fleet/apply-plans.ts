import type { NodeSlots } from './compact-view.js';
import { allocationHash, type AllocationLike } from './usage-poll.js';

/** Per-node figures of one envelope as slots and values, ready to store in a compact view. */
export interface FigurePlan {
  slots: Int32Array;
  values: Float64Array;
}

/** What a node envelope's data sets in a compact view. */
export interface NodePlan {
  slot: number;
  resourceVersion: string;
  /** The probe label's value, when the node has one. */
  probe: string | undefined;
}

/**
 * What the decoded parts of an envelope set in a compact view, worked out once per
 * fleet process. The clients of a process share decoded envelopes (the text frames'
 * `sharedParser`, a compressed batch's `inflatedJson`), so a `pod_counts` or
 * `allocation` of thousands of nodes, or a node snapshot, reaches each of them as
 * the same object: each client then stores ready slots and values instead of
 * looking up every node name and hashing every allocation again. Keyed weakly by the
 * decoded object, which nobody modifies.
 */
export class ApplyPlans {
  private readonly counts = new WeakMap<object, FigurePlan>();
  private readonly allocations = new WeakMap<object, FigurePlan>();
  private readonly nodes = new WeakMap<object, NodePlan>();

  constructor(
    private readonly slots: NodeSlots,
    private readonly probeLabel: string,
  ) {}

  /** A `pod_counts` envelope's counts: each node's slot and count (0 for a value that is not a number). */
  podCounts(counts: Record<string, unknown>): FigurePlan {
    let plan = this.counts.get(counts);
    if (!plan) {
      plan = this.figures(counts, (count) => (typeof count === 'number' ? count : 0));
      this.counts.set(counts, plan);
    }
    return plan;
  }

  /** An `allocation` envelope's nodes: each node's slot and allocation hash (`allocationHash`). */
  allocation(nodes: Record<string, AllocationLike>): FigurePlan {
    let plan = this.allocations.get(nodes);
    if (!plan) {
      plan = this.figures(nodes, (allocation) => allocationHash(allocation as AllocationLike));
      this.allocations.set(nodes, plan);
    }
    return plan;
  }

  /** A `node_add` or `node_update` of `name` with `data` (the snapshot). */
  node(
    name: string,
    data: { resourceVersion?: unknown; labels?: Record<string, unknown> } | undefined,
  ): NodePlan {
    let plan = data && this.nodes.get(data);
    if (!plan) {
      const probe = data?.labels?.[this.probeLabel];
      plan = {
        slot: this.slots.slot(name),
        resourceVersion: String(data?.resourceVersion),
        probe: typeof probe === 'string' ? probe : undefined,
      };
      if (data) this.nodes.set(data, plan);
    }
    return plan;
  }

  private figures(byNode: Record<string, unknown>, value: (v: unknown) => number): FigurePlan {
    const names = Object.keys(byNode);
    const plan: FigurePlan = { slots: new Int32Array(names.length), values: new Float64Array(names.length) };
    names.forEach((name, i) => {
      plan.slots[i] = this.slots.slot(name);
      plan.values[i] = value(byNode[name]);
    });
    return plan;
  }
}
