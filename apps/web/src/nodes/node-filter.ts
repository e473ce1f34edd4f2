import {
  SelectorParseError,
  matchesLabelSelector,
  parseLabelSelector,
  type LabelSelector,
} from '@knm/contracts';
import type { NodeRow } from './node-row.js';
import { OrderedRows } from './ordered-rows.js';

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

/**
 * The test a row must pass to be shown under `criteria`. Built once per criteria
 * change, so filtering 5,000 rows is one call per row and nothing else.
 */
export function rowMatcher(criteria: NodeCriteria): (row: NodeRow) => boolean {
  const needle = criteria.search.trim().toLowerCase();
  const quick = [...criteria.quick].map((q) => QUICK_TESTS[q]);
  const selector = criteria.selector;
  return (row) =>
    (!needle || row.searchText.includes(needle)) &&
    (!selector || matchesLabelSelector(selector, row.node.labels)) &&
    quick.every((test) => test(row));
}

/** Whether `criteria` keeps every row (then the sorted rows are shown as they are). */
export function keepsEverything(criteria: NodeCriteria): boolean {
  return criteria.search.trim() === '' && !criteria.selector && criteria.quick.size === 0;
}

/**
 * The rows that match `criteria`, sorted. Pure; linear in the rows plus one sort
 * over precomputed keys. The table keeps its rows sorted between changes instead
 * (`OrderedRows`); this is the same order, for one-off lists.
 */
export function selectRows(rows: Iterable<NodeRow>, criteria: NodeCriteria, sort: NodeSort): NodeRow[] {
  const matches = rowMatcher(criteria);
  const ordered = new OrderedRows(sort);
  ordered.reset([...rows].filter(matches));
  return [...ordered.rows];
}
