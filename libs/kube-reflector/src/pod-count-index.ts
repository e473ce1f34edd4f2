import { podCounts, type PodRecord } from './pod-record.js';
import { UidTable } from './uid-table.js';

/** Node names interned to small ids, with the number of counted pods on each. */
class CountState {
  /** uid -> node id, for pods that count (bound, not Succeeded/Failed). */
  readonly pods: UidTable;
  private readonly ids = new Map<string, number>();
  private readonly names: (string | undefined)[] = [];
  private readonly counts: number[] = [];
  private readonly free: number[] = [];

  constructor(
    expected: number,
    /** Told of every per-node change; swapped when a rebuilt state takes over. */
    public onDelta: (node: string, delta: number) => void,
  ) {
    this.pods = new UidTable(expected);
  }

  /** Applies a pod's current state; idempotent. */
  upsert(pod: PodRecord): void {
    const previous = this.pods.get(pod.uid);
    if (!podCounts(pod)) {
      if (previous !== undefined) {
        this.pods.delete(pod.uid);
        this.decrement(previous);
      }
      return;
    }
    const name = pod.nodeName as string;
    if (previous !== undefined && this.names[previous] === name) return;
    const id = this.intern(name);
    this.pods.set(pod.uid, id);
    this.increment(id);
    if (previous !== undefined) this.decrement(previous);
  }

  /** Forgets a pod (deleted); no-op for one never counted. */
  remove(uid: string): void {
    const previous = this.pods.delete(uid);
    if (previous !== undefined) this.decrement(previous);
  }

  countOf(node: string): number {
    const id = this.ids.get(node);
    return id === undefined ? 0 : (this.counts[id] ?? 0);
  }

  /** Non-zero counts by node name. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, id] of this.ids) {
      const n = this.counts[id] ?? 0;
      if (n > 0) out[name] = n;
    }
    return out;
  }

  get nodeCount(): number {
    return this.ids.size;
  }

  get byteSize(): number {
    // Per interned name: ~72 bytes for its Map entry and the string's header, plus its
    // characters. Per id: 16 bytes, one slot each in `names` and `counts`.
    let names = 0;
    for (const name of this.ids.keys()) names += 72 + name.length;
    return this.pods.byteSize + names + this.counts.length * 16;
  }

  private intern(name: string): number {
    let id = this.ids.get(name);
    if (id !== undefined) return id;
    id = this.free.pop() ?? this.names.length;
    this.ids.set(name, id);
    this.names[id] = name;
    this.counts[id] = 0;
    return id;
  }

  private increment(id: number): void {
    this.counts[id] = (this.counts[id] ?? 0) + 1;
    this.onDelta(this.names[id] as string, 1);
  }

  private decrement(id: number): void {
    const name = this.names[id] as string;
    const n = (this.counts[id] ?? 0) - 1;
    this.counts[id] = n;
    this.onDelta(name, -1);
    if (n === 0) {
      // Only counted pods are held, so a node with none left holds no reference: recycle its id.
      this.ids.delete(name);
      this.names[id] = undefined;
      this.free.push(id);
    }
  }
}

/**
 * Per-node pod counts kept from a pod watch, in ~41 bytes per pod (bench/results,
 * sync-memory: 150,000 pods on 5,000 nodes): uid -> interned
 * node id, held only for pods that count (bound to a node, not Succeeded/Failed);
 * a pod that does not count holds nothing, which is how "counted?" is recorded.
 *
 * Contract:
 * - `apply` takes watch events in order: create, bind (MODIFIED with a nodeName),
 *   phase change to Succeeded/Failed (the pod is decremented, never ignored: the
 *   original design's drift bug), migration to another node, delete; re-applying a
 *   known state is a no-op (idempotent), deleting an unknown uid is a no-op.
 * - `replace` takes a complete (re)list: pods absent from it are dropped (deletes
 *   missed during a disconnect), and the net per-node change is added to the deltas.
 * - Every change accumulates into per-node deltas, taken with `takeDeltas()` for a
 *   coalesced write; `counts()` is the absolute state to rebuild from.
 */
export class PodCountIndex {
  private state: CountState;
  private pending = new Map<string, number>();
  private readonly addDelta = (node: string, delta: number): void => {
    this.pending.set(node, (this.pending.get(node) ?? 0) + delta);
  };

  constructor() {
    this.state = new CountState(0, this.addDelta);
  }

  /** Applies one watch event for a pod. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: PodRecord): void {
    if (type === 'DELETED') this.state.remove(pod.uid);
    else this.state.upsert(pod);
  }

  /** Replaces everything with a complete list, adding the net difference to the pending deltas. */
  replace(pods: readonly PodRecord[]): void {
    const before = this.state.snapshot();
    const next = new CountState(pods.length, () => {});
    for (const pod of pods) next.upsert(pod);
    this.state = next;
    next.onDelta = this.addDelta;
    const after = next.snapshot();
    for (const [node, n] of Object.entries(before)) {
      const delta = (after[node] ?? 0) - n;
      if (delta !== 0) this.addDelta(node, delta);
    }
    for (const [node, n] of Object.entries(after)) {
      if (before[node] === undefined) this.addDelta(node, n);
    }
  }

  /** Pods counted on `node`. */
  countOf(node: string): number {
    return this.state.countOf(node);
  }

  /** Non-zero counts by node name: the absolute state. */
  counts(): Record<string, number> {
    return this.state.snapshot();
  }

  /** Number of pods that count (cluster total). */
  get size(): number {
    return this.state.pods.size;
  }

  /** Number of nodes with at least one counted pod. */
  get nodeCount(): number {
    return this.state.nodeCount;
  }

  /** True when changes happened since the last {@link PodCountIndex.takeDeltas}. */
  get hasPendingDeltas(): boolean {
    return this.pending.size > 0;
  }

  /** The net per-node changes since the last call (zeros left out), and forgets them. */
  takeDeltas(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [node, delta] of this.pending) if (delta !== 0) out[node] = delta;
    this.pending = new Map();
    return out;
  }

  /** Forgets the pending deltas without building them (nobody will write them: a standby). */
  clearDeltas(): void {
    this.pending.clear();
  }

  /** Approximate bytes held by the index (not counting pending deltas). */
  get byteSize(): number {
    return this.state.byteSize;
  }
}
