import {
  SelectorParseError,
  matchesLabelSelector,
  parseLabelSelector,
  type LabelSelector,
} from '@knm/contracts';
import type { NodeRow } from './node-row.js';
import type { BarResource } from './resource-bar.js';

/** The quick filters (combined with AND). */
export const QUICK_FILTERS = ['notReady', 'cordoned', 'tainted', 'gpu'] as const;
export type QuickFilter = (typeof QUICK_FILTERS)[number];

/** Labels of the quick filters, as the buttons say them. */
export const QUICK_FILTER_LABELS: Record<QuickFilter, string> = {
  notReady: 'NotReady',
  cordoned: 'Cordoned',
  tainted: 'Tainted',
  gpu: 'GPU',
};

const QUICK_TESTS: Record<QuickFilter, (row: NodeRow) => boolean> = {
  notReady: (r) => r.status !== 'Ready',
  cordoned: (r) => r.cordoned,
  tainted: (r) => r.taintChips.length > 0,
  gpu: (r) => r.gpus > 0,
};

/** Columns the table sorts by. */
export const SORT_KEYS = [
  'name',
  'status',
  'roles',
  'pods',
  'cpu',
  'memory',
  'gpus',
  'version',
  'zone',
  'age',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** What the table shows: every criterion must hold. */
export interface NodeCriteria {
  /** Case-insensitive substring of name, roles, zone, version, labels, taints or addresses. */
  search: string;
  /** Parsed label selector; undefined = no selector. */
  selector?: LabelSelector;
  quick: ReadonlySet<QuickFilter>;
}

/**
 * Sort column and direction; ties are broken by name. `pods`, `cpu`, `memory` and
 * `gpus` sort by the percent of allocatable requested (the bar's length), nodes
 * without the resource last either way.
 */
export interface NodeSort {
  key: SortKey;
  descending: boolean;
}

/** The selector box's text parsed: the selector, or the parser's message to show beside the box. */
export function parseSelectorInput(text: string): { selector?: LabelSelector; error?: string } {
  if (text.trim() === '') return {};
  try {
    return { selector: parseLabelSelector(text) };
  } catch (err) {
    if (err instanceof SelectorParseError) return { error: err.message };
    throw err;
  }
}

function statusRank(row: NodeRow): number {
  return (row.status === 'Ready' ? 0 : row.status === 'NotReady' ? 2 : 1) + (row.cordoned ? 0.5 : 0);
}

const requested = (row: NodeRow, bar: BarResource): number | null => row.bars[bar]?.requestsPercent ?? null;

function sortValue(row: NodeRow, key: SortKey): string | number | null {
  switch (key) {
    case 'name':
      return row.name;
    case 'status':
      return statusRank(row);
    case 'roles':
      return row.roles.join(',');
    case 'pods':
      return requested(row, 'pods');
    case 'cpu':
      return requested(row, 'cpu');
    case 'memory':
      return requested(row, 'memory');
    case 'gpus':
      return requested(row, 'gpu');
    case 'version':
      return row.version;
    case 'zone':
      return row.zone;
    case 'age':
      // Oldest first when ascending by age.
      return Number.isNaN(row.createdAt) ? Number.POSITIVE_INFINITY : row.createdAt;
  }
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The rows that match `criteria`, sorted. Pure; linear in the rows plus the sort
 * (about 10 ms for 5,000 nodes), so the dashboard can run it after every batch of
 * changes.
 */
export function selectRows(rows: Iterable<NodeRow>, criteria: NodeCriteria, sort: NodeSort): NodeRow[] {
  const needle = criteria.search.trim().toLowerCase();
  const quick = [...criteria.quick].map((q) => QUICK_TESTS[q]);
  const out: NodeRow[] = [];
  for (const row of rows) {
    if (needle && !row.searchText.includes(needle)) continue;
    if (criteria.selector && !matchesLabelSelector(criteria.selector, row.node.labels)) continue;
    if (!quick.every((test) => test(row))) continue;
    out.push(row);
  }
  const sign = sort.descending ? -1 : 1;
  out.sort((a, b) => {
    const va = sortValue(a, sort.key);
    const vb = sortValue(b, sort.key);
    // Rows without the figure come last whichever the direction.
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1;
      return compareNames(a.name, b.name);
    }
    const primary =
      typeof va === 'number' && typeof vb === 'number' ? va - vb : compareNames(String(va), String(vb));
    return primary !== 0 ? sign * primary : compareNames(a.name, b.name);
  });
  return out;
}
