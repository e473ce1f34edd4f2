import { z } from 'zod';
import type { NodeCondition, NodeSnapshot, Taint } from './node-snapshot.js';

/**
 * The aspects of a node that can change, in the order they are reported:
 * - `labels`, `annotations` (allow-listed ones only), `taints`, `schedulable` (spec.unschedulable)
 * - `status`: the Ready state or any condition's status, reason, message or transition time
 * - `capacity`, `allocatable`, `addresses` (addresses and pod CIDRs), `info` (nodeInfo)
 */
export const NODE_ASPECTS = [
  'labels',
  'annotations',
  'taints',
  'schedulable',
  'status',
  'capacity',
  'allocatable',
  'addresses',
  'info',
] as const;
export const NodeAspectSchema = z.enum(NODE_ASPECTS);
export type NodeAspect = z.infer<typeof NodeAspectSchema>;

/**
 * The aspects that differ between two snapshots of the same node, in
 * {@link NODE_ASPECTS} order. An empty list means the update carried nothing that
 * matters (a kubelet heartbeat, a bookkeeping annotation, a resourceVersion bump):
 * such updates are dropped, never written or published. Map key order and the order
 * of taints and conditions do not count as changes.
 */
export function diffNodeSnapshots(prev: NodeSnapshot, next: NodeSnapshot): NodeAspect[] {
  const changed: NodeAspect[] = [];
  if (!sameRecord(prev.labels, next.labels)) changed.push('labels');
  if (!sameRecord(prev.annotations, next.annotations)) changed.push('annotations');
  if (!sameTaints(prev.taints, next.taints)) changed.push('taints');
  if (prev.unschedulable !== next.unschedulable) changed.push('schedulable');
  if (prev.ready !== next.ready || !sameConditions(prev.conditions, next.conditions)) changed.push('status');
  if (!sameRecord(prev.capacity, next.capacity)) changed.push('capacity');
  if (!sameRecord(prev.allocatable, next.allocatable)) changed.push('allocatable');
  if (
    !sameList(prev.addresses, next.addresses, (a) => `${a.type}\u0000${a.address}`) ||
    !sameList(prev.podCIDRs, next.podCIDRs, (c) => c)
  ) {
    changed.push('addresses');
  }
  if (!sameRecord(prev.nodeInfo, next.nodeInfo)) changed.push('info');
  return changed;
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function sameList<T>(a: readonly T[], b: readonly T[], key: (item: T) => string): boolean {
  return a.length === b.length && a.every((item, i) => key(item) === key(b[i] as T));
}

function sameTaints(a: readonly Taint[], b: readonly Taint[]): boolean {
  const key = (t: Taint) => `${t.key}\u0000${t.value ?? ''}\u0000${t.effect}\u0000${t.timeAdded ?? ''}`;
  return sameList([...a].map(key).sort(), [...b].map(key).sort(), (k) => k);
}

function sameConditions(a: readonly NodeCondition[], b: readonly NodeCondition[]): boolean {
  const key = (c: NodeCondition) =>
    [c.type, c.status, c.reason ?? '', c.message ?? '', c.lastTransitionTime ?? ''].join('\u0000');
  return sameList([...a].map(key).sort(), [...b].map(key).sort(), (k) => k);
}
