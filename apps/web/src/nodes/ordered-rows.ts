import type { NodeSort, SortKey } from './node-filter.js';
import type { NodeRow } from './node-row.js';
import type { BarResource } from './resource-bar.js';

/** What a row sorts by under one key; null: the row has no such figure (always last). */
type SortValue = string | number | null;

function statusRank(row: NodeRow): number {
  return (row.status === 'Ready' ? 0 : row.status === 'NotReady' ? 2 : 1) + (row.cordoned ? 0.5 : 0);
}

const requested = (row: NodeRow, bar: BarResource): number | null => row.bars[bar]?.requestsPercent ?? null;

/** The value `row` sorts by under `key`. */
export function sortValue(row: NodeRow, key: SortKey): SortValue {
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

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Every row of the table kept in one sort's order, with each row's sort value
 * computed once (when it enters), not once per comparison.
 *
 * A change moves one row: it is found by binary search on its old value and
 * inserted by binary search on its new one, so a live update costs O(log n) compares
 * plus an array shift instead of re-sorting 5,000 rows. The order is total (ties by
 * name, names are unique), which is what lets a row be found again by its value.
 */
export class OrderedRows {
  private list: NodeRow[] = [];
  private values: SortValue[] = [];

  constructor(private current: NodeSort) {}

  /** The rows in order. Read-only: changes go through the methods. */
  get rows(): readonly NodeRow[] {
    return this.list;
  }

  get sort(): NodeSort {
    return this.current;
  }

  /** Replaces every row (and the sort when given), sorting once over precomputed values. */
  reset(rows: Iterable<NodeRow>, sort: NodeSort = this.current): void {
    this.current = sort;
    const decorated = [...rows].map((row) => ({ row, value: sortValue(row, sort.key) }));
    decorated.sort((a, b) => this.compare(a.value, a.row.name, b.value, b.row.name));
    this.list = decorated.map((d) => d.row);
    this.values = decorated.map((d) => d.value);
  }

  /** Re-sorts the rows held by `sort` (nothing to do when it is the current one). */
  resort(sort: NodeSort): void {
    if (sort.key === this.current.key && sort.descending === this.current.descending) return;
    this.reset(this.list, sort);
  }

  /** Adds `row` at its place. */
  insert(row: NodeRow): void {
    const value = sortValue(row, this.current.key);
    const at = this.position(value, row.name);
    this.list.splice(at, 0, row);
    this.values.splice(at, 0, value);
  }

  /** Removes `row` (the very object held; a row is replaced, never mutated). */
  remove(row: NodeRow): void {
    const at = this.position(sortValue(row, this.current.key), row.name);
    if (this.list[at] !== row) return;
    this.list.splice(at, 1);
    this.values.splice(at, 1);
  }

  /** The index of the first row not before (value, name). */
  private position(value: SortValue, name: string): number {
    let low = 0;
    let high = this.list.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const other = this.list[mid] as NodeRow;
      if (this.compare(this.values[mid] as SortValue, other.name, value, name) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Rows without the figure last whichever the direction; ties by name, ascending. */
  private compare(va: SortValue, na: string, vb: SortValue, nb: string): number {
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1;
      return compareStrings(na, nb);
    }
    // Not a subtraction: two infinite ages (unparseable dates) would give NaN and break the order.
    const primary =
      typeof va === 'number' && typeof vb === 'number'
        ? va < vb
          ? -1
          : va > vb
            ? 1
            : 0
        : compareStrings(String(va), String(vb));
    return primary !== 0 ? (this.current.descending ? -primary : primary) : compareStrings(na, nb);
  }
}
