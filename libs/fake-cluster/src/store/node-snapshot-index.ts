import { diffNodeSnapshots, projectNode, type KubeNodeLike, type NodeSnapshot } from '@knm/contracts';
import type { KubeObject } from '../api/kube-object.js';
import type { StoredChange } from './change-log.js';

/**
 * name -> the {@link NodeSnapshot} of each node's last change that mattered: what a
 * correct watcher holds. Kept up to date from the store's changes, one projection
 * per Node change (never by re-scanning history):
 * - a node added (or loaded), or replaced under the same name with another uid:
 *   its snapshot, carrying that change's resourceVersion;
 * - a MODIFIED whose projection differs from the held one
 *   (`diffNodeSnapshots` non-empty): the new snapshot and resourceVersion;
 * - a MODIFIED that alters no projected aspect (a kubelet heartbeat, a bookkeeping
 *   annotation): nothing; the held snapshot, with its older resourceVersion, stays;
 * - DELETED: gone.
 *
 * "Differs from the held one" equals "differs from the previous object's
 * projection": an empty diff is an equality of canonical forms, so it is transitive.
 */
export class NodeSnapshotIndex {
  private readonly nodes = new Map<string, NodeSnapshot>();

  /** Starts over from `nodes` (each one's own resourceVersion counts as its last change). */
  rebuild(nodes: Iterable<KubeObject>): void {
    this.nodes.clear();
    for (const node of nodes) this.nodes.set(node.metadata.name, project(node));
  }

  /** Applies one store change (ignores other kinds). */
  apply(event: StoredChange): void {
    if (event.kind !== 'Node') return;
    const name = event.object.metadata.name;
    if (event.type === 'DELETED') {
      this.nodes.delete(name);
      return;
    }
    const next = project(event.object);
    const held = this.nodes.get(name);
    if (held !== undefined && held.uid === next.uid && diffNodeSnapshots(held, next).length === 0) return;
    this.nodes.set(name, next);
  }

  /** The held snapshot of `name`, or undefined. */
  get(name: string): NodeSnapshot | undefined {
    return this.nodes.get(name);
  }

  /** Number of nodes. */
  get size(): number {
    return this.nodes.size;
  }

  /** A copy of every held snapshot (the caller may keep or change them), by node name in name order. */
  toRecord(): Record<string, NodeSnapshot> {
    const names = [...this.nodes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const out: Record<string, NodeSnapshot> = {};
    for (const name of names) out[name] = copySnapshot(this.nodes.get(name) as NodeSnapshot);
    return out;
  }
}

/** A deep copy of a snapshot, field by field (several times faster than `structuredClone` at 5,000 nodes). */
function copySnapshot(n: NodeSnapshot): NodeSnapshot {
  return {
    ...n,
    labels: { ...n.labels },
    annotations: { ...n.annotations },
    taints: n.taints.map((t) => ({ ...t })),
    roles: [...n.roles],
    conditions: n.conditions.map((c) => ({ ...c })),
    addresses: n.addresses.map((a) => ({ ...a })),
    capacity: { ...n.capacity },
    allocatable: { ...n.allocatable },
    nodeInfo: { ...n.nodeInfo },
    podCIDRs: [...n.podCIDRs],
  };
}

function project(node: KubeObject): NodeSnapshot {
  return projectNode(node as KubeNodeLike);
}
