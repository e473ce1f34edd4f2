import { EMPTY_ALLOCATION, diffNodeSnapshots, type NodeAllocation, type NodeSnapshot } from '@knm/contracts';
import type { NodeCacheChange } from '../node-cache.js';

/**
 * The node changes that turn `stored` into `cached`: deletes of what is gone first,
 * then adds and updates in `cached` order (a node re-created under the same name is a
 * delete of the old uid, then an add). A node whose snapshots differ in no aspect
 * (only a heartbeat or resourceVersion) is left alone, as the cache itself does.
 */
export function diffNodes(
  stored: readonly NodeSnapshot[],
  cached: readonly NodeSnapshot[],
): NodeCacheChange[] {
  const before = new Map(stored.map((n) => [n.name, n]));
  const names = new Set(cached.map((n) => n.name));
  const changes: NodeCacheChange[] = [];
  for (const node of stored) {
    if (!names.has(node.name)) changes.push({ type: 'node_delete', name: node.name, uid: node.uid });
  }
  for (const node of cached) {
    const old = before.get(node.name);
    if (!old) {
      changes.push({ type: 'node_add', node });
    } else if (old.uid !== node.uid) {
      changes.push({ type: 'node_delete', name: old.name, uid: old.uid }, { type: 'node_add', node });
    } else {
      const aspects = diffNodeSnapshots(old, node);
      if (aspects.length > 0) changes.push({ type: 'node_update', node, changes: aspects });
    }
  }
  return changes;
}

/** Per-node deltas that turn the `stored` counts into the `cached` ones (zeros left out). */
export function diffPodCounts(
  stored: Readonly<Record<string, number>>,
  cached: Readonly<Record<string, number>>,
): Record<string, number> {
  const deltas: Record<string, number> = {};
  for (const [node, n] of Object.entries(cached)) {
    const delta = n - (stored[node] ?? 0);
    if (delta !== 0) deltas[node] = delta;
  }
  for (const [node, n] of Object.entries(stored)) {
    if (cached[node] === undefined && n !== 0) deltas[node] = -n;
  }
  return deltas;
}

/**
 * The allocations to write to turn `stored` into `cached`: the cached allocation of
 * every node where they differ, {@link EMPTY_ALLOCATION} for a node stored but no
 * longer cached. Both sides are compared as values (key order does not matter).
 */
export function diffAllocation(
  stored: Readonly<Record<string, NodeAllocation>>,
  cached: Readonly<Record<string, NodeAllocation>>,
): Record<string, NodeAllocation> {
  const out: Record<string, NodeAllocation> = {};
  for (const [node, allocation] of Object.entries(cached)) {
    const before = stored[node];
    if (!before || !sameAllocation(before, allocation)) out[node] = allocation;
  }
  for (const node of Object.keys(stored)) if (cached[node] === undefined) out[node] = EMPTY_ALLOCATION;
  return out;
}

function sameAllocation(a: NodeAllocation, b: NodeAllocation): boolean {
  return sameAmounts(a.requests, b.requests) && sameAmounts(a.limits, b.limits);
}

function sameAmounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a).filter((k) => a[k] !== 0);
  if (keys.length !== Object.keys(b).filter((k) => b[k] !== 0).length) return false;
  return keys.every((k) => a[k] === b[k]);
}
