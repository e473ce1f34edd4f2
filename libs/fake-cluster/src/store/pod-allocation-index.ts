import type { KubeObject } from '../api/kube-object.js';
import type { StoredChange } from './change-log.js';
import { countedNode } from './pods-per-node-count.js';
import { podTotals } from './pod-totals.js';

/** A node's summed requests and limits per resource, in base units (see `podResourceTotals`). */
export interface NodeAllocation {
  requests: Record<string, number>;
  limits: Record<string, number>;
}

interface Sums {
  requests: Map<string, number>;
  limits: Map<string, number>;
}

function addInto(into: Map<string, number>, amounts: Record<string, number>, sign: 1 | -1): void {
  for (const [name, value] of Object.entries(amounts)) {
    const next = (into.get(name) ?? 0) + sign * value;
    if (next === 0) into.delete(name);
    else into.set(name, next);
  }
}

function sortedRecord(amounts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...amounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Per-node sums of the effective requests and limits of the pods that count on the
 * node (the rule of {@link countedNode}, the same as the pod counts), kept up to
 * date from the store's changes: a change takes the previous object's totals off
 * its node and adds the new object's to its node. Totals are integers in base
 * units, so the sums stay exact. Resources summing to zero are not kept, nor nodes
 * with nothing.
 */
export class PodAllocationIndex {
  private readonly nodes = new Map<string, Sums>();

  /** Recounts from scratch. */
  rebuild(pods: Iterable<KubeObject>): void {
    this.nodes.clear();
    for (const pod of pods) this.add(countedNode(pod), pod, 1);
  }

  /** Applies one store change (ignores other kinds). */
  apply(event: StoredChange): void {
    if (event.kind !== 'Pod') return;
    const before = countedNode(event.previous);
    const after = event.type === 'DELETED' ? undefined : countedNode(event.object);
    if (before === undefined && after === undefined) return;
    this.add(before, event.previous, -1);
    this.add(after, event.object, 1);
  }

  /** The sums of `node` (empty records when nothing counts on it). */
  get(node: string): NodeAllocation {
    const sums = this.nodes.get(node);
    return {
      requests: sums ? sortedRecord(sums.requests) : {},
      limits: sums ? sortedRecord(sums.limits) : {},
    };
  }

  /** The requests of `resource` on `node` (0 when none). */
  requested(node: string, resource: string): number {
    return this.nodes.get(node)?.requests.get(resource) ?? 0;
  }

  /** Every node with something requested or limited, by name. */
  toRecord(): Record<string, NodeAllocation> {
    const names = [...this.nodes.keys()].sort();
    return Object.fromEntries(names.map((name) => [name, this.get(name)]));
  }

  private add(node: string | undefined, pod: KubeObject | undefined, sign: 1 | -1): void {
    if (node === undefined || pod === undefined) return;
    const totals = podTotals(pod);
    let sums = this.nodes.get(node);
    if (sums === undefined) {
      sums = { requests: new Map(), limits: new Map() };
      this.nodes.set(node, sums);
    }
    addInto(sums.requests, totals.requests, sign);
    addInto(sums.limits, totals.limits, sign);
    if (sums.requests.size === 0 && sums.limits.size === 0) this.nodes.delete(node);
  }
}
