import {
  NODE_SORT_FIELDS,
  nodeResourceFigures,
  parseResourcePercentKey,
  resourcePercent,
  type NodeAllocation,
  type NodeSnapshot,
  type NodeSort,
  type NodeSortField,
  type NodeSortParam,
  type NodeUsage,
  type ResourcePercentRef,
} from '@knm/contracts';

/** The value a node sorts by for one field (ties are broken by name). */
export type SortKey = string | number;

/** A node and the figures it may be sorted or filtered by. */
export interface SortSubject {
  node: NodeSnapshot;
  podCount: number;
  allocation: NodeAllocation | undefined;
  usage: NodeUsage | undefined;
}

/** A decoded `sort` + `order`: what to sort by and which way. */
export interface NodeOrder {
  /** A field, or the resource percent to sort by. */
  by: NodeSortField | ResourcePercentRef;
  /** 1 ascending, -1 descending. */
  direction: 1 | -1;
}

const READY_ORDER = { True: 0, False: 1, Unknown: 2 } as const;

/**
 * Decodes a `sort` parameter (already validated by the query schema) and `order`:
 * a leading `-` or `order=desc` sorts descending.
 */
export function nodeOrder(sort: NodeSortParam, order: 'asc' | 'desc'): NodeOrder {
  const descending = sort.startsWith('-') || order === 'desc';
  const key = (sort.startsWith('-') ? sort.slice(1) : sort) as NodeSort;
  const field = (NODE_SORT_FIELDS as readonly string[]).includes(key) ? (key as NodeSortField) : undefined;
  const by = field ?? parseResourcePercentKey(key);
  if (!by) throw new RangeError(`not a sort key: ${key}`);
  return { by, direction: descending ? -1 : 1 };
}

/**
 * The sort key of `subject` for `order.by`:
 * - `name`; `pods` (pod count); `role` (roles joined); `version` (kubelet version)
 * - `age`: ascending = youngest first (latest creationTimestamp first)
 * - `ready`: True, False, Unknown; `schedulable`: schedulable first
 * - a resource percent: the percent of allocatable; a node whose percent cannot be
 *   said sorts after every other in either direction (it gets the largest number
 *   that, times the direction, comes last; JSON carries it in continue tokens)
 */
export function sortKeyOf(subject: SortSubject, order: NodeOrder): SortKey {
  const { node, podCount } = subject;
  const by = order.by;
  if (typeof by !== 'string') {
    const figures = nodeResourceFigures(node, podCount, subject.allocation, subject.usage, by.resource);
    return resourcePercent(figures, by.measure) ?? order.direction * Number.MAX_VALUE;
  }
  switch (by) {
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
