import { computed, ref, shallowRef, type ComputedRef, type ShallowRef } from 'vue';
import type { NodeView } from '@knm/contracts';
import { selectRows, type NodeCriteria, type NodeSort } from './node-filter.js';
import { toNodeRow, type NodeRow } from './node-row.js';

/** Options of {@link NodeTableStore}. */
export interface NodeTableOptions {
  /** How long a changed row flashes. Default 1,500 ms. */
  flashMs?: number;
  /** Changes within this window re-sort the table once. Default 120 ms. */
  refreshMs?: number;
}

/** How often expired flashes are swept while any row flashes. */
const FLASH_SWEEP_MS = 250;

/**
 * The node table of the current cluster: its rows, what it shows of them (search,
 * selector, quick filters, sort), the selection and the rows flashing after a change.
 *
 * Rows are kept in a plain Map (5,000 nodes would make a deep reactive proxy slow)
 * and `rowsVersion` tells Vue when to recompute the filtered, sorted list. A whole
 * reload shows at once; single changes are coalesced into one recompute per
 * `refreshMs`, so a burst re-sorts 5,000 rows once, not once per change.
 *
 * Everything a column shows is derived once per node change by `toNodeRow`: a new
 * column is a field there (and a sort key in node-filter.ts when it sorts). Data
 * that comes from elsewhere than the node itself belongs here as a method that
 * updates the rows it concerns and calls `refreshSoon`.
 */
export class NodeTableStore {
  readonly rowsVersion = ref(0);
  readonly criteria: ShallowRef<NodeCriteria> = shallowRef({ search: '', quick: new Set() });
  readonly sort: ShallowRef<NodeSort> = shallowRef({ key: 'name', descending: false });
  readonly selected: ShallowRef<ReadonlySet<string>> = shallowRef(new Set());
  readonly flashing: ShallowRef<ReadonlySet<string>> = shallowRef(new Set());
  /** Every row, whatever the criteria (the cluster overview sums them). */
  readonly allRows: ComputedRef<NodeRow[]> = computed(() => {
    void this.rowsVersion.value;
    return [...this.rows.values()];
  });
  /** The rows the criteria keep, in the sort's order. */
  readonly visibleRows: ComputedRef<NodeRow[]> = computed(() => {
    void this.rowsVersion.value;
    return selectRows(this.rows.values(), this.criteria.value, this.sort.value);
  });

  private readonly rows = new Map<string, NodeRow>();
  private readonly flashUntil = new Map<string, number>();
  private readonly flashMs: number;
  private readonly refreshMs: number;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private flashTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: NodeTableOptions = {}) {
    this.flashMs = options.flashMs ?? 1_500;
    this.refreshMs = options.refreshMs ?? 120;
  }

  /** Number of nodes of the current cluster. */
  get totalRows(): number {
    void this.rowsVersion.value;
    return this.rows.size;
  }

  /** The row of `name`, if the node exists. */
  row(name: string): NodeRow | undefined {
    void this.rowsVersion.value;
    return this.rows.get(name);
  }

  setCriteria(criteria: NodeCriteria): void {
    this.criteria.value = criteria;
  }

  setSort(sort: NodeSort): void {
    this.sort.value = sort;
  }

  setSelected(names: Iterable<string>): void {
    this.selected.value = new Set(names);
  }

  /** Replaces every row (a snapshot was loaded), shown at once. */
  replaceAll(nodes: Iterable<NodeView>): void {
    this.rows.clear();
    for (const node of nodes) this.rows.set(node.name, toNodeRow(node));
    this.rowsVersion.value += 1;
  }

  /** Empties the table (sign-out, cluster switch), shown at once. */
  clear(): void {
    this.rows.clear();
    this.rowsVersion.value += 1;
  }

  /** Adds or replaces the row of `node`; shown with the next refresh. */
  upsert(node: NodeView): void {
    this.rows.set(node.name, toNodeRow(node));
    this.refreshSoon();
  }

  /** Removes the row of `name`; shown with the next refresh. */
  remove(name: string): void {
    this.rows.delete(name);
    this.refreshSoon();
  }

  /** Makes the row of `name` flash for `flashMs` (it just changed). */
  flash(name: string): void {
    this.flashUntil.set(name, Date.now() + this.flashMs);
    this.scheduleFlashSweep();
    this.refreshSoon();
  }

  /** Recomputes the shown rows (and flashes) within `refreshMs`, once for every change until then. */
  private refreshSoon(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.rowsVersion.value += 1;
      this.flashing.value = new Set(this.flashUntil.keys());
    }, this.refreshMs);
  }

  private scheduleFlashSweep(): void {
    if (this.flashTimer) return;
    this.flashTimer = setTimeout(() => {
      this.flashTimer = undefined;
      const now = Date.now();
      for (const [name, until] of this.flashUntil) if (until <= now) this.flashUntil.delete(name);
      this.flashing.value = new Set(this.flashUntil.keys());
      if (this.flashUntil.size > 0) this.scheduleFlashSweep();
    }, FLASH_SWEEP_MS);
  }
}
