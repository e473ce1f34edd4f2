import { computed, ref, shallowRef, type ComputedRef, type ShallowRef } from 'vue';
import type { NodeView } from '@knm/contracts';
import { keepsEverything, rowMatcher, type NodeCriteria, type NodeSort } from './node-filter.js';
import { toNodeRow, type NodeRow } from './node-row.js';
import { OrderedRows } from './ordered-rows.js';

/** Options of {@link NodeTableStore}. */
export interface NodeTableOptions {
  /** How long a changed row flashes. Default 1,500 ms. */
  flashMs?: number;
  /** Changes within this window are applied together, once. Default 120 ms. */
  refreshMs?: number;
  /** Least time between two recomputes of what sums every row (the overview). Default 1,000 ms. */
  summaryMs?: number;
  /** Rows built per task when a whole cluster is loaded or every row changed. Default 250. */
  rowsPerTask?: number;
}

/** What a pending change resolves to: the node now, or undefined when it is gone. */
type NodeSource = () => NodeView | undefined;

/** How often expired flashes are swept while any row flashes. */
const FLASH_SWEEP_MS = 250;

/**
 * Above this share of the rows changed in one window, re-sorting them all is cheaper
 * than moving each one (a binary search and an array shift per row).
 */
const RESORT_SHARE = 1 / 8;

/**
 * The node table of the current cluster: its rows, what it shows of them (search,
 * selector, quick filters, sort), the selection and the rows flashing after a change.
 *
 * Rows are kept in a plain Map (5,000 nodes would make a deep reactive proxy slow)
 * and `rowsVersion` tells Vue when to recompute the shown list. They are also kept
 * sorted ({@link OrderedRows}): a sort change re-sorts once over precomputed values,
 * a filter change is one pass over the sorted rows, and live changes are queued and
 * applied together once per `refreshMs` (only the last change of a node is turned
 * into a row, each moved into place by binary search), so a burst neither re-sorts
 * 5,000 rows nor rebuilds a row per envelope. What sums every row (the overview)
 * follows at most once per `summaryMs`. A snapshot can show a first page of rows
 * at once (`showFirstPage`) while the whole cluster is built in short slices (`load`).
 *
 * Everything a column shows is derived once per node change by `toNodeRow`: a new
 * column is a field there (and a sort value in ordered-rows.ts when it sorts). Data
 * that comes from elsewhere than the node itself belongs here as a method that
 * queues the rows it concerns.
 */
export class NodeTableStore {
  readonly rowsVersion = ref(0);
  readonly criteria: ShallowRef<NodeCriteria> = shallowRef({ search: '', quick: new Set() });
  readonly sort: ShallowRef<NodeSort> = shallowRef({ key: 'name', descending: false });
  readonly selected: ShallowRef<ReadonlySet<string>> = shallowRef(new Set());
  readonly flashing: ShallowRef<ReadonlySet<string>> = shallowRef(new Set());
  /**
   * The cluster's node count while only a first page is shown (the table says how
   * many are still loading); undefined once every row is there.
   */
  readonly expectedRows = ref<number>();
  /** Every row, whatever the criteria (the cluster overview sums them); at most once per `summaryMs`. */
  readonly allRows: ComputedRef<NodeRow[]> = computed(() => {
    void this.summaryVersion.value;
    return [...this.rows.values()];
  });
  /** The rows the criteria keep, in the sort's order. */
  readonly visibleRows: ComputedRef<NodeRow[]> = computed(() => {
    void this.rowsVersion.value;
    this.ordered.resort(this.sort.value);
    const criteria = this.criteria.value;
    const rows = this.ordered.rows;
    return keepsEverything(criteria) ? [...rows] : rows.filter(rowMatcher(criteria));
  });

  private readonly rows = new Map<string, NodeRow>();
  private readonly ordered: OrderedRows;
  /** Changes not applied yet, by node: the last one wins. */
  private readonly pending = new Map<string, NodeSource>();
  private readonly summaryVersion = ref(0);
  private readonly flashUntil = new Map<string, number>();
  private readonly flashMs: number;
  private readonly refreshMs: number;
  private readonly summaryMs: number;
  private readonly rowsPerTask: number;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private flashTimer: ReturnType<typeof setTimeout> | undefined;
  private summaryTimer: ReturnType<typeof setTimeout> | undefined;
  private summaryAt = 0;
  /** Bumped by every whole replacement: a slice of an older `load` stops. */
  private loadRun = 0;
  /**
   * A `load` is building rows: queued changes wait for its last slice. Applied to the
   * rows shown meanwhile (a first page), they would leave the queue and be lost when
   * the whole cluster replaces them, for a node whose row an earlier slice had built.
   */
  private loading = false;

  constructor(options: NodeTableOptions = {}) {
    this.flashMs = options.flashMs ?? 1_500;
    this.refreshMs = options.refreshMs ?? 120;
    this.summaryMs = options.summaryMs ?? 1_000;
    this.rowsPerTask = options.rowsPerTask ?? 250;
    this.ordered = new OrderedRows(this.sort.value);
  }

  /** Number of nodes of the current cluster (shown or, during a first page, still loading). */
  get totalRows(): number {
    void this.rowsVersion.value;
    return this.expectedRows.value ?? this.rows.size;
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
    // Changes queued before the snapshot are older than it.
    this.pending.clear();
    const rows = new Map<string, NodeRow>();
    for (const node of nodes) rows.set(node.name, toNodeRow(node));
    this.swap(rows);
  }

  /**
   * Replaces every row with the nodes `names` resolve to, built `rowsPerTask` per
   * task so that a 5,000-node snapshot never holds the main thread long; what the
   * table shows (a first page, or the previous rows) stays as it is until the last
   * slice, and changes queued meanwhile are applied on top of the new rows. Resolves when shown; a later
   * replacement or `clear` stops it (it then resolves without showing anything).
   */
  load(names: readonly string[], resolve: (name: string) => NodeView | undefined): Promise<void> {
    const run = ++this.loadRun;
    // Changes queued before the snapshot are older than it; those queued while it is built are kept.
    this.pending.clear();
    this.loading = true;
    const rows = new Map<string, NodeRow>();
    return new Promise((done) => {
      const slice = (from: number): void => {
        if (run !== this.loadRun) return done();
        for (const name of names.slice(from, from + this.rowsPerTask)) {
          const node = resolve(name);
          if (node) rows.set(name, toNodeRow(node));
        }
        if (from + this.rowsPerTask < names.length) {
          setTimeout(() => slice(from + this.rowsPerTask), 0);
          return;
        }
        this.swap(rows);
        done();
      };
      slice(0);
    });
  }

  /**
   * Shows a first page of the cluster (the top of the table in the current sort)
   * before the whole cluster has arrived; `total` is the cluster's node count. Shown
   * at once; the next whole replacement takes its place.
   */
  showFirstPage(nodes: Iterable<NodeView>, total: number): void {
    this.rows.clear();
    for (const node of nodes) this.rows.set(node.name, toNodeRow(node));
    this.ordered.reset(this.rows.values(), this.sort.value);
    this.expectedRows.value = total;
    this.rowsVersion.value += 1;
    this.summarizeNow();
  }

  /** Empties the table (sign-out, cluster switch), shown at once. */
  clear(): void {
    this.loadRun += 1;
    this.pending.clear();
    this.swap(new Map());
  }

  /** Adds or replaces the row of `node`; shown with the next refresh. */
  upsert(node: NodeView): void {
    this.pending.set(node.name, () => node);
    this.refreshSoon();
  }

  /**
   * The rows of `names` changed (pod counts, allocation, usage): each is rebuilt from
   * `resolve` when the refresh applies it (undefined: the node is gone), so a node
   * changed many times within a window is built once.
   */
  changed(names: Iterable<string>, resolve: (name: string) => NodeView | undefined): void {
    for (const name of names) this.pending.set(name, () => resolve(name));
    this.refreshSoon();
  }

  /** Removes the row of `name`; shown with the next refresh. */
  remove(name: string): void {
    this.pending.set(name, () => undefined);
    this.refreshSoon();
  }

  /** Makes the row of `name` flash for `flashMs` (it just changed). */
  flash(name: string): void {
    this.flashUntil.set(name, Date.now() + this.flashMs);
    this.scheduleFlashSweep();
    this.refreshSoon();
  }

  /** Every row at once: a whole snapshot, or none. */
  private swap(rows: Map<string, NodeRow>): void {
    this.loadRun += 1;
    this.loading = false;
    this.rows.clear();
    for (const [name, row] of rows) this.rows.set(name, row);
    this.ordered.reset(this.rows.values(), this.sort.value);
    this.expectedRows.value = undefined;
    this.rowsVersion.value += 1;
    this.summarizeNow();
    if (this.pending.size > 0) this.refreshSoon();
  }

  /**
   * Applies the queued changes and recomputes the shown rows (and flashes) within
   * `refreshMs`, once for every change until then. At most `rowsPerTask` rows are
   * rebuilt per task (a usage poll changes every row): the rest follow in the next
   * tasks, and the table shows them all at once when the last is applied.
   */
  private refreshSoon(delayMs = this.refreshMs): void {
    // The load's last slice asks again (`swap`).
    if (this.refreshTimer || this.loading) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      if (this.loading) return;
      this.applyPending();
      // Shown once the queue is drained: a usage poll's 5,000 rows re-render the table once, not per slice.
      if (this.pending.size > 0) {
        this.refreshSoon(0);
        return;
      }
      this.rowsVersion.value += 1;
      this.flashing.value = new Set(this.flashUntil.keys());
      this.summarizeSoon();
    }, delayMs);
  }

  private applyPending(): void {
    const batch = [...this.pending].slice(0, this.rowsPerTask);
    const resort = batch.length > this.rows.size * RESORT_SHARE;
    for (const [name, source] of batch) {
      this.pending.delete(name);
      const before = this.rows.get(name);
      const node = source();
      const row = node && toNodeRow(node);
      if (before && !resort) this.ordered.remove(before);
      if (row) {
        this.rows.set(name, row);
        if (!resort) this.ordered.insert(row);
      } else {
        this.rows.delete(name);
      }
    }
    if (resort) this.ordered.reset(this.rows.values(), this.sort.value);
  }

  private summarizeNow(): void {
    clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    this.summaryAt = Date.now();
    this.summaryVersion.value += 1;
  }

  /** Recomputes what sums every row at most once per `summaryMs` (the last change is never left out). */
  private summarizeSoon(): void {
    if (this.summaryTimer) return;
    const wait = Math.max(0, this.summaryAt + this.summaryMs - Date.now());
    this.summaryTimer = setTimeout(() => this.summarizeNow(), wait);
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
