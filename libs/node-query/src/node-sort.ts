import type { NodeSnapshot, NodeSortField } from '@knm/contracts';

/** The value a node sorts by for one field (ties are broken by name). */
export type SortKey = string | number;

const READY_ORDER = { True: 0, False: 1, Unknown: 2 } as const;

/**
 * The sort key of `node` for `field`:
 * - `name`; `pods` (pod count); `role` (roles joined); `version` (kubelet version)
 * - `age`: ascending = youngest first (latest creationTimestamp first)
 * - `ready`: True, False, Unknown; `schedulable`: schedulable first
 */
export function sortKeyOf(node: NodeSnapshot, podCount: number, field: NodeSortField): SortKey {
  switch (field) {
    case 'name':
      return node.name;
    case 'age': {
      const created = Date.parse(node.creationTimestamp);
      return Number.isNaN(created) ? 0 : -created;
    }
    case 'pods':
      return podCount;
    case 'ready':
      return READY_ORDER[node.ready];
    case 'schedulable':
      return node.unschedulable ? 1 : 0;
    case 'role':
      return node.roles.join(',');
    case 'version':
      return node.nodeInfo.kubeletVersion;
  }
}

/** Compares two (key, name) pairs ascending; code-point order for strings, like Kubernetes. */
export function compareKeys(a: readonly [SortKey, string], b: readonly [SortKey, string]): number {
  return compareValue(a[0], b[0]) || compareValue(a[1], b[1]);
}

function compareValue(a: SortKey, b: SortKey): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
