import type { NodeListQueryInput } from '@knm/contracts';
import type { NodeSort, SortKey } from './node-filter.js';

/**
 * The gateway's sort for the table's columns it orders by the same values (nodes
 * without the figure last), so its first page is the table's top (only ties at the
 * page's edge may differ). The other columns are read by name: the first page then
 * shows some nodes, in the table's order among themselves, until the whole cluster
 * is there.
 */
const GATEWAY_SORTS: Partial<Record<SortKey, string>> = {
  name: 'name',
  pods: 'pods.requestsPercent',
  cpu: 'cpu.requestsPercent',
  memory: 'memory.requestsPercent',
};

/** The node list query whose first page is the top of the table under `sort`. */
export function firstPageQuery(sort: NodeSort): NodeListQueryInput {
  const field = GATEWAY_SORTS[sort.key];
  if (!field) return { sort: 'name' };
  return { sort: field, order: sort.descending ? 'desc' : 'asc' };
}
