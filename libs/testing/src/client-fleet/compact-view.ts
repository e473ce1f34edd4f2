import { createHash } from 'node:crypto';

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

/** A node list as a snapshot gives it: name, resourceVersion, pod count. */
export interface CompactSnapshot {
  seq: number;
  nodes: readonly { name: string; resourceVersion: string; podCount: number }[];
}

/** What one client holds: per node its resourceVersion and pod count, at `seq`. */
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
}

/** One client's full view, for diagnosis: node name -> resourceVersion, node name -> pod count (> 0 only). */
export interface FullView {
  seq: number;
  nodes: Record<string, string>;
  podCounts: Record<string, number>;
}

/**
 * The digest of a view given as plain maps, e.g. built from kube-sim's `/_sim/truth`
 * or from Redis, to compare with what {@link CompactView.digest} returns for a client.
 */
export function viewDigest(
  seq: number,
  nodes: Readonly<Record<string, string>>,
  podCounts: Readonly<Record<string, number>>,
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
  return { seq, nodes: names.length, pods, nodesSha: nodeHash.digest('hex'), podsSha: podHash.digest('hex') };
}

/** A resourceVersion that fits a float exactly is stored as a number; others (opaque strings) aside. */
const NUMERIC_RV = /^(0|[1-9]\d{0,14})$/;

/**
 * A client's view of one cluster in about 12 bytes a node: resourceVersions in a
 * Float64Array (NaN = node absent) and pod counts in an Int32Array, both indexed by
 * the process's {@link NodeSlots}. resourceVersions are opaque strings: the rare one
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
  private readonly opaque = new Map<number, string>();

  constructor(private readonly slots: NodeSlots) {}

  load(snapshot: CompactSnapshot): void {
    this.rvs = new Float64Array(Math.max(16, this.slots.size)).fill(Number.NaN);
    this.counts = new Int32Array(this.rvs.length);
    this.opaque.clear();
    for (const node of snapshot.nodes) {
      const slot = this.slots.slot(node.name);
      this.setRv(slot, node.resourceVersion);
      this.counts[slot] = node.podCount;
    }
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
    for (const [slot, rv] of this.opaque) h.update(`${slot}:${rv};`);
    return h.digest('hex');
  }

  digest(): ViewDigest {
    const nodeHash = createHash('sha256');
    const podHash = createHash('sha256');
    let nodes = 0;
    let pods = 0;
    for (const slot of this.slots.sorted()) {
      const name = this.slots.name(slot);
      const rv = this.rv(slot);
      if (rv !== undefined) {
        nodes += 1;
        nodeHash.update(`${name}\t${rv}\n`);
      }
      // Counts are kept apart from nodes, as the SDK's view does (pods may outlive their node briefly).
      const count = this.counts[slot] ?? 0;
      if (count > 0) {
        pods += count;
        podHash.update(`${name}\t${count}\n`);
      }
    }
    return { seq: this.seq, nodes, pods, nodesSha: nodeHash.digest('hex'), podsSha: podHash.digest('hex') };
  }

  full(): FullView {
    const nodes: Record<string, string> = {};
    const podCounts: Record<string, number> = {};
    for (const slot of this.slots.sorted()) {
      const name = this.slots.name(slot);
      const rv = this.rv(slot);
      if (rv !== undefined) nodes[name] = rv;
      const count = this.counts[slot] ?? 0;
      if (count > 0) podCounts[name] = count;
    }
    return { seq: this.seq, nodes, podCounts };
  }

  private ensure(slot: number): void {
    if (slot < this.rvs.length) return;
    const size = Math.max(slot + 1, this.rvs.length * 2);
    const rvs = new Float64Array(size).fill(Number.NaN);
    rvs.set(this.rvs);
    const counts = new Int32Array(size);
    counts.set(this.counts);
    this.rvs = rvs;
    this.counts = counts;
  }
}
