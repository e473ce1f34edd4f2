import type { KubeObject } from '../api/kube-object.js';
import type { StoredChange } from './change-log.js';

/**
 * The node a pod counts on, or undefined: a pod counts when it is bound
 * (`spec.nodeName` set) and not terminated (phase not Succeeded/Failed).
 * Terminating pods (deletionTimestamp set) still count until they are gone, as
 * they still occupy the node.
 */
export function countedNode(pod: KubeObject | undefined): string | undefined {
  if (pod === undefined) return undefined;
  const nodeName = pod.spec?.['nodeName'];
  if (typeof nodeName !== 'string' || nodeName === '') return undefined;
  const phase = pod.status?.['phase'];
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  return nodeName;
}

/**
 * Per-node counts of non-terminated bound pods, kept up to date from the store's
 * changes (each change moves at most one unit from the previous object's node to
 * the new one's). Nodes with a count of zero are not kept.
 */
export class PodsPerNodeCount {
  private readonly counts = new Map<string, number>();

  /** Recounts from scratch. */
  rebuild(pods: Iterable<KubeObject>): void {
    this.counts.clear();
    for (const pod of pods) this.add(countedNode(pod), 1);
  }

  /** Applies one store change (ignores other kinds). */
  apply(event: StoredChange): void {
    if (event.kind !== 'Pod') return;
    const before = countedNode(event.previous);
    const after = event.type === 'DELETED' ? undefined : countedNode(event.object);
    if (before === after) return;
    this.add(before, -1);
    this.add(after, 1);
  }

  /** The count of `node` (0 when none). */
  get(node: string): number {
    return this.counts.get(node) ?? 0;
  }

  /** The non-zero counts, by node name. */
  toRecord(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  private add(node: string | undefined, delta: number): void {
    if (node === undefined) return;
    const next = (this.counts.get(node) ?? 0) + delta;
    if (next === 0) this.counts.delete(node);
    else this.counts.set(node, next);
  }
}
