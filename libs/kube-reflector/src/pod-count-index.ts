import { EMPTY_ALLOCATION, type NodeAllocation } from '@knm/contracts';
import { podCounts, type PodRecord } from './pod-record.js';
import { EMPTY_PROFILE, ResourceProfiles } from './resource-profiles.js';
import { UidTable } from './uid-table.js';

/**
 * A pod's entry in the uid table packs its node id and its profile id into one
 * integer: `profile * NODE_SPAN + node` (a float64 slot holds it exactly).
 */
const NODE_SPAN = 2 ** 24;

/** Told of every change of one node: its count moved by `delta`, and whether its allocation may have changed. */
type ChangeListener = (node: string, delta: number, allocationChanged: boolean) => void;

/**
 * Node names interned to small ids, with, per node, the number of counted pods and
 * the sums of their requests and limits per resource id.
 */
class IndexState {
  /** uid -> packed (node id, profile id), for pods that count (bound, not Succeeded/Failed). */
  readonly pods: UidTable;
  readonly profiles = new ResourceProfiles();
  private readonly ids = new Map<string, number>();
  private readonly names: (string | undefined)[] = [];
  private readonly counts: number[] = [];
  /** Per node id, per resource id: the sums of the requests and of the limits of its pods. */
  private readonly requests: (number[] | undefined)[] = [];
  private readonly limits: (number[] | undefined)[] = [];
  private readonly free: number[] = [];

  constructor(
    expected: number,
    /** Swapped when a rebuilt state takes over. */
    public onChange: ChangeListener,
  ) {
    this.pods = new UidTable(expected);
  }

  /** Applies a pod's current state; idempotent. */
  upsert(pod: PodRecord): void {
    const previous = this.pods.get(pod.uid);
    if (!podCounts(pod)) {
      if (previous !== undefined) {
        this.pods.delete(pod.uid);
        this.take(previous);
      }
      return;
    }
    const name = pod.nodeName as string;
    if (
      previous !== undefined &&
      this.names[previous % NODE_SPAN] === name &&
      this.profiles.matches(Math.floor(previous / NODE_SPAN), pod.resources)
    ) {
      return;
    }
    // Acquired before the previous state is released, so a profile or node id that
    // stays in use is never freed and re-created in between.
    const node = this.intern(name);
    const profile = this.profiles.acquire(pod.resources);
    this.pods.set(pod.uid, profile * NODE_SPAN + node);
    this.put(node, profile);
    if (previous !== undefined) this.take(previous);
  }

  /** Forgets a pod (deleted); no-op for one never counted. */
  remove(uid: string): void {
    const previous = this.pods.delete(uid);
    if (previous !== undefined) this.take(previous);
  }

  countOf(node: string): number {
    const id = this.ids.get(node);
    return id === undefined ? 0 : (this.counts[id] ?? 0);
  }

  allocationOf(node: string): NodeAllocation {
    const id = this.ids.get(node);
    return id === undefined ? EMPTY_ALLOCATION : this.allocationById(id);
  }

  /** Non-zero counts by node name. */
  countsByNode(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, id] of this.ids) {
      const n = this.counts[id] ?? 0;
      if (n > 0) out[name] = n;
    }
    return out;
  }

  /** Non-empty allocations by node name. */
  allocationsByNode(): Record<string, NodeAllocation> {
    const out: Record<string, NodeAllocation> = {};
    for (const [name, id] of this.ids) {
      const allocation = this.allocationById(id);
      if (allocation !== EMPTY_ALLOCATION) out[name] = allocation;
    }
    return out;
  }

  get nodeCount(): number {
    return this.ids.size;
  }

  get byteSize(): number {
    // Per interned name: ~72 bytes for its Map entry and the string's header, plus its
    // characters. Per id: 16 bytes, one slot each in `names` and `counts`, and for
    // each of requests and limits an array of ~ (32 + 8 per resource).
    let names = 0;
    for (const name of this.ids.keys()) names += 72 + name.length;
    const sums = this.counts.length * 2 * (32 + 8 * this.profiles.resourceCount);
    return this.pods.byteSize + names + this.counts.length * 16 + sums + this.profiles.byteSize;
  }

  private allocationById(id: number): NodeAllocation {
    const requests = this.amounts(this.requests[id]);
    const limits = this.amounts(this.limits[id]);
    if (!requests && !limits) return EMPTY_ALLOCATION;
    return { requests: requests ?? {}, limits: limits ?? {} };
  }

  /** Non-zero sums by resource name, names sorted; undefined when all are zero. */
  private amounts(sums: number[] | undefined): Record<string, number> | undefined {
    if (!sums) return undefined;
    const named: [string, number][] = [];
    for (let r = 0; r < sums.length; r++) {
      const v = sums[r];
      if (v) named.push([this.profiles.resourceName(r), v]);
    }
    if (named.length === 0) return undefined;
    named.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return Object.fromEntries(named);
  }

  private intern(name: string): number {
    let id = this.ids.get(name);
    if (id !== undefined) return id;
    id = this.free.pop() ?? this.names.length;
    if (id >= NODE_SPAN) throw new RangeError(`more than ${NODE_SPAN} nodes with pods`);
    this.ids.set(name, id);
    this.names[id] = name;
    this.counts[id] = 0;
    return id;
  }

  /** Adds a pod with `profile` to node `id`. */
  private put(id: number, profile: number): void {
    this.counts[id] = (this.counts[id] ?? 0) + 1;
    if (profile !== EMPTY_PROFILE) this.addSums(id, profile, 1);
    this.onChange(this.names[id] as string, 1, profile !== EMPTY_PROFILE);
  }

  /** Removes the pod whose packed entry is `value`. */
  private take(value: number): void {
    const id = value % NODE_SPAN;
    const profile = (value - id) / NODE_SPAN;
    const name = this.names[id] as string;
    const n = (this.counts[id] ?? 0) - 1;
    this.counts[id] = n;
    if (profile !== EMPTY_PROFILE) {
      this.addSums(id, profile, -1);
      this.profiles.release(profile);
    }
    this.onChange(name, -1, profile !== EMPTY_PROFILE);
    if (n === 0) {
      // Only counted pods are held, so a node with none left holds no reference (and
      // its sums are back to zero): recycle its id.
      this.ids.delete(name);
      this.names[id] = undefined;
      this.requests[id] = undefined;
      this.limits[id] = undefined;
      this.free.push(id);
    }
  }

  private addSums(id: number, profile: number, sign: 1 | -1): void {
    const triples = this.profiles.amountsOf(profile);
    const requests = (this.requests[id] ??= []);
    const limits = (this.limits[id] ??= []);
    for (let i = 0; i < triples.length; i += 3) {
      const r = triples[i] as number;
      requests[r] = (requests[r] ?? 0) + sign * (triples[i + 1] as number);
      limits[r] = (limits[r] ?? 0) + sign * (triples[i + 2] as number);
    }
  }
}

/**
 * Per-node pod counts and allocation (the sums of the pods' effective requests and
 * limits per resource) kept from a pod watch, in a few dozen bytes per pod: uid ->
 * packed (interned node id, interned resource profile id), held only for pods that
 * count (bound to a node, not Succeeded/Failed); a pod that does not count holds
 * nothing, which is how "counted?" is recorded. Pods of one workload share one
 * profile (see {@link ResourceProfiles}); sums are exact (integers in base units).
 *
 * Contract:
 * - `apply` takes watch events in order: create, bind (MODIFIED with a nodeName),
 *   phase change to Succeeded/Failed (the pod is decremented, never ignored: the
 *   original design's drift bug), migration to another node, in-place resize (new
 *   resources, same node), delete; re-applying a known state is a no-op
 *   (idempotent), deleting an unknown uid is a no-op.
 * - `replace` takes a complete (re)list: pods absent from it are dropped (deletes
 *   missed during a disconnect), and the net per-node change is added to the pending
 *   changes.
 * - Counts and allocation equal a full recount of the pods applied, at all times.
 * - Every change accumulates into pending per-node changes, taken with
 *   `takeDeltas()` (count deltas) and `takeAllocation()` (the absolute allocation
 *   of each node whose allocation may have changed) for a coalesced write;
 *   `counts()` and `allocations()` are the absolute state to rebuild from.
 */
export class PodCountIndex {
  private state: IndexState;
  private pending = new Map<string, number>();
  private dirty = new Set<string>();
  private readonly addChange: ChangeListener = (node, delta, allocationChanged) => {
    this.pending.set(node, (this.pending.get(node) ?? 0) + delta);
    if (allocationChanged) this.dirty.add(node);
  };

  constructor() {
    this.state = new IndexState(0, this.addChange);
  }

  /** Applies one watch event for a pod. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: PodRecord): void {
    if (type === 'DELETED') this.state.remove(pod.uid);
    else this.state.upsert(pod);
  }

  /** Replaces everything with a complete list, adding the net difference to the pending changes. */
  replace(pods: readonly PodRecord[]): void {
    const before = this.state.countsByNode();
    const allocationBefore = this.state.allocationsByNode();
    const next = new IndexState(pods.length, () => {});
    for (const pod of pods) next.upsert(pod);
    this.state = next;
    next.onChange = this.addChange;
    const after = next.countsByNode();
    for (const [node, n] of Object.entries(before)) {
      const delta = (after[node] ?? 0) - n;
      if (delta !== 0) this.addChange(node, delta, false);
    }
    for (const [node, n] of Object.entries(after)) {
      if (before[node] === undefined) this.addChange(node, n, false);
    }
    const allocationAfter = next.allocationsByNode();
    for (const [node, allocation] of Object.entries(allocationBefore)) {
      const now = allocationAfter[node];
      if (!now || JSON.stringify(now) !== JSON.stringify(allocation)) this.dirty.add(node);
    }
    for (const node of Object.keys(allocationAfter)) {
      if (allocationBefore[node] === undefined) this.dirty.add(node);
    }
  }

  /** Pods counted on `node`. */
  countOf(node: string): number {
    return this.state.countOf(node);
  }

  /** What the pods counted on `node` request and limit ({@link EMPTY_ALLOCATION} when nothing). */
  allocationOf(node: string): NodeAllocation {
    return this.state.allocationOf(node);
  }

  /** Non-zero counts by node name: the absolute state. */
  counts(): Record<string, number> {
    return this.state.countsByNode();
  }

  /** Non-empty allocations by node name: the absolute state. */
  allocations(): Record<string, NodeAllocation> {
    return this.state.allocationsByNode();
  }

  /** Number of pods that count (cluster total). */
  get size(): number {
    return this.state.pods.size;
  }

  /** Number of nodes with at least one counted pod. */
  get nodeCount(): number {
    return this.state.nodeCount;
  }

  /** Number of distinct non-empty resource profiles the counted pods use. */
  get profileCount(): number {
    return this.state.profiles.size;
  }

  /** True when changes happened since the last {@link PodCountIndex.takeDeltas} / {@link PodCountIndex.takeAllocation}. */
  get hasPendingDeltas(): boolean {
    return this.pending.size > 0 || this.dirty.size > 0;
  }

  /** The net per-node count changes since the last call (zeros left out), and forgets them. */
  takeDeltas(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [node, delta] of this.pending) if (delta !== 0) out[node] = delta;
    this.pending = new Map();
    return out;
  }

  /**
   * The absolute allocation, now, of every node whose allocation may have changed
   * since the last call ({@link EMPTY_ALLOCATION} for a node with nothing left), and
   * forgets them. A node may be listed with an unchanged allocation (a pod came and
   * went); the writer skips those.
   */
  takeAllocation(): Record<string, NodeAllocation> {
    const out: Record<string, NodeAllocation> = {};
    for (const node of this.dirty) out[node] = this.state.allocationOf(node);
    this.dirty = new Set();
    return out;
  }

  /** Forgets the pending changes without building them (nobody will write them: a standby). */
  clearDeltas(): void {
    this.pending.clear();
    this.dirty.clear();
  }

  /** Approximate bytes held by the index (not counting pending changes). */
  get byteSize(): number {
    return this.state.byteSize;
  }
}
