import { createHash } from 'node:crypto';
import {
  allocationHash,
  usagePoll,
  type AllocationLike,
  type UsageLike,
  type UsagePoll,
} from './usage-poll.js';

/**
 * Node name <-> slot of one fleet process. Every client of the process stores its
 * view in arrays indexed by these slots, so a name is held once per process, not
 * once per client. Grow-only: a removed node keeps its slot (it is absent from a
 * view, not from the index).
 */
export class NodeSlots {
  private readonly slots = new Map<string, number>();
  private readonly names: string[] = [];
  private sortedCache: number[] | undefined;

  get size(): number {
    return this.names.length;
  }

  /** The slot of `name`, allocated on first use. */
  slot(name: string): number {
    let slot = this.slots.get(name);
    if (slot === undefined) {
      slot = this.names.length;
      this.slots.set(name, slot);
      this.names.push(name);
      this.sortedCache = undefined;
    }
    return slot;
  }

  name(slot: number): string {
    return this.names[slot] as string;
  }

  /** Every slot, ordered by node name (code-unit order, as `Array.prototype.sort`). */
  sorted(): readonly number[] {
    this.sortedCache ??= this.names
      .map((_, i) => i)
      .sort((a, b) => {
        const x = this.names[a] as string;
        const y = this.names[b] as string;
        return x < y ? -1 : x > y ? 1 : 0;
      });
    return this.sortedCache;
  }
}

/**
 * A node list as a snapshot gives it: name, resourceVersion, pod count, allocation
 * hash (`allocationHash`, absent = none); and the usage poll its usage comes from.
 */
export interface CompactSnapshot {
  seq: number;
  nodes: readonly { name: string; resourceVersion: string; podCount: number; allocation?: number }[];
  usage?: UsagePoll;
}

/** What one client holds: per node its resourceVersion, pod count and allocation, and the usage poll, at `seq`. */
export interface ViewDigest {
  seq: number;
  /** Nodes in the view. */
  nodes: number;
  /** Sum of the pod counts. */
  pods: number;
  /** sha256 (hex) of `name\tresourceVersion\n` for every node, sorted by name. */
  nodesSha: string;
  /** sha256 (hex) of `name\tcount\n` for every node with a count > 0, sorted by name. */
  podsSha: string;
  /** sha256 (hex) of `name\tallocationHash\n` for every node whose pods take something, sorted by name. */
  allocationSha: string;
  /**
   * sha256 (hex) of the usage poll's status, then `name\tcpu\tmemory\n` for every
   * node in the view that the poll measured, sorted by name ('' before the first poll).
   */
  usageSha: string;
}

/**
 * One client's full view, for diagnosis: node name -> resourceVersion, node name ->
 * pod count (> 0 only), node name -> allocation hash (non-zero only), the usage poll's status.
 */
export interface FullView {
  seq: number;
  nodes: Record<string, string>;
  podCounts: Record<string, number>;
  allocation: Record<string, number>;
  usage?: string;
}

/** Digest of the allocation hashes (name order), shared by the truth's and a client's digest. */
function allocationDigest(entries: Iterable<[string, number]>): string {
  const hash = createHash('sha256');
  for (const [name, value] of entries) if (value !== 0) hash.update(`${name}\t${value}\n`);
  return hash.digest('hex');
}

/** Digest of a usage poll as seen on the nodes present (name order); '' without a poll. */
function usageDigest(poll: UsagePoll | undefined, present: Iterable<string>): string {
  if (!poll) return '';
  const hash = createHash('sha256');
  hash.update(`${poll.status}\n`);
  for (const name of present) {
    const usage = poll.nodes.get(name);
    if (usage !== undefined) hash.update(`${name}\t${usage}\n`);
  }
  return hash.digest('hex');
}

/**
 * The digest of a view given as plain maps, e.g. built from kube-sim's `/_sim/truth`
 * or from Redis, to compare with what {@link CompactView.digest} returns for a client.
 */
export function viewDigest(
  seq: number,
  nodes: Readonly<Record<string, string>>,
  podCounts: Readonly<Record<string, number>>,
  allocation: Readonly<Record<string, AllocationLike>> = {},
  usage?: UsageLike,
): ViewDigest {
  const nodeHash = createHash('sha256');
  const names = Object.keys(nodes).sort();
  for (const name of names) nodeHash.update(`${name}\t${nodes[name]}\n`);
  const podHash = createHash('sha256');
  let pods = 0;
  for (const name of Object.keys(podCounts).sort()) {
    const count = podCounts[name] ?? 0;
    if (count <= 0) continue;
    pods += count;
    podHash.update(`${name}\t${count}\n`);
  }
  return {
    seq,
    nodes: names.length,
    pods,
    nodesSha: nodeHash.digest('hex'),
    podsSha: podHash.digest('hex'),
    allocationSha: allocationDigest(
      Object.keys(allocation)
        .sort()
        .map((name) => [name, allocationHash(allocation[name])]),
    ),
    usageSha: usageDigest(usage && usagePoll(usage), names),
  };
}

/** A resourceVersion that fits a float exactly is stored as a number; others (opaque strings) aside. */
const NUMERIC_RV = /^(0|[1-9]\d{0,14})$/;

/**
 * A client's view of one cluster in about 20 bytes a node: resourceVersions in a
 * Float64Array (NaN = node absent), pod counts in an Int32Array and allocation
 * hashes in a Float64Array (0 = none), all indexed by the process's
 * {@link NodeSlots}; and a reference to the usage poll the process shares. resourceVersions are opaque strings: the rare one
 * that is not a short decimal integer is kept as a string in a side map.
 *
 * It applies envelopes with the SDK's `ClusterView` rules: only the next seq is
 * applied, a lower one is a duplicate, a higher one a gap.
 */
export class CompactView {
  seq = 0;
  loaded = false;
  private rvs = new Float64Array(0);
  private counts = new Int32Array(0);
  private allocs = new Float64Array(0);
  private readonly opaque = new Map<number, string>();
  /** The last usage poll applied (shared by the process's clients). */
  usage: UsagePoll | undefined;

  constructor(private readonly slots: NodeSlots) {}

  load(snapshot: CompactSnapshot): void {
    this.rvs = new Float64Array(Math.max(16, this.slots.size)).fill(Number.NaN);
    this.counts = new Int32Array(this.rvs.length);
    this.allocs = new Float64Array(this.rvs.length);
    this.opaque.clear();
    for (const node of snapshot.nodes) {
      const slot = this.slots.slot(node.name);
      this.setRv(slot, node.resourceVersion);
      this.counts[slot] = node.podCount;
      this.allocs[slot] = node.allocation ?? 0;
    }
    this.usage = snapshot.usage;
    this.seq = snapshot.seq;
    this.loaded = true;
  }

  setRv(slot: number, rv: string): void {
    this.ensure(slot);
    if (NUMERIC_RV.test(rv)) {
      this.rvs[slot] = Number(rv);
      this.opaque.delete(slot);
    } else {
      this.rvs[slot] = -1;
      this.opaque.set(slot, rv);
    }
  }

  deleteNode(slot: number): void {
    this.ensure(slot);
    this.rvs[slot] = Number.NaN;
    this.opaque.delete(slot);
  }

  setCount(slot: number, count: number): void {
    this.ensure(slot);
    this.counts[slot] = count;
  }

  /** Sets a node's allocation hash (`allocationHash`; 0 when its pods take nothing). */
  setAllocation(slot: number, hash: number): void {
    this.ensure(slot);
    this.allocs[slot] = hash;
  }

  rv(slot: number): string | undefined {
    const v = this.rvs[slot];
    if (v === undefined || Number.isNaN(v)) return undefined;
    return v === -1 ? this.opaque.get(slot) : String(v);
  }

  /** A cheap fingerprint of the raw state: clients with equal keys have equal views. */
  rawKey(): string {
    const h = createHash('sha1');
    h.update(String(this.seq));
    h.update(new Uint8Array(this.rvs.buffer, 0, Math.min(this.rvs.length, this.slots.size) * 8));
    h.update(new Uint8Array(this.counts.buffer, 0, Math.min(this.counts.length, this.slots.size) * 4));
    h.update(new Uint8Array(this.allocs.buffer, 0, Math.min(this.allocs.length, this.slots.size) * 8));
    for (const [slot, rv] of this.opaque) h.update(`${slot}:${rv};`);
    h.update(`usage:${this.usage?.status ?? ''}`);
    return h.digest('hex');
  }

  digest(): ViewDigest {
    const nodeHash = createHash('sha256');
    const podHash = createHash('sha256');
    let nodes = 0;
    let pods = 0;
    const present: string[] = [];
    const allocations: [string, number][] = [];
    for (const slot of this.slots.sorted()) {
      const name = this.slots.name(slot);
      const rv = this.rv(slot);
      if (rv !== undefined) {
        nodes += 1;
        nodeHash.update(`${name}\t${rv}\n`);
        present.push(name);
      }
      allocations.push([name, this.allocs[slot] ?? 0]);
      // Counts are kept apart from nodes, as the SDK's view does (pods may outlive their node briefly).
      const count = this.counts[slot] ?? 0;
      if (count > 0) {
        pods += count;
        podHash.update(`${name}\t${count}\n`);
      }
    }
    return {
      seq: this.seq,
      nodes,
      pods,
      nodesSha: nodeHash.digest('hex'),
      podsSha: podHash.digest('hex'),
      allocationSha: allocationDigest(allocations),
      usageSha: usageDigest(this.usage, present),
    };
  }

  full(): FullView {
    const nodes: Record<string, string> = {};
    const podCounts: Record<string, number> = {};
    const allocation: Record<string, number> = {};
    for (const slot of this.slots.sorted()) {
      const name = this.slots.name(slot);
      const rv = this.rv(slot);
      if (rv !== undefined) nodes[name] = rv;
      const count = this.counts[slot] ?? 0;
      if (count > 0) podCounts[name] = count;
      const hash = this.allocs[slot] ?? 0;
      if (hash !== 0) allocation[name] = hash;
    }
    const view: FullView = { seq: this.seq, nodes, podCounts, allocation };
    if (this.usage) view.usage = this.usage.status;
    return view;
  }

  private ensure(slot: number): void {
    if (slot < this.rvs.length) return;
    const size = Math.max(slot + 1, this.rvs.length * 2);
    const rvs = new Float64Array(size).fill(Number.NaN);
    rvs.set(this.rvs);
    const counts = new Int32Array(size);
    counts.set(this.counts);
    const allocs = new Float64Array(size);
    allocs.set(this.allocs);
    this.rvs = rvs;
    this.counts = counts;
    this.allocs = allocs;
  }
}
