import { ref, shallowRef, type Ref, type ShallowRef } from 'vue';
import { KnmApiError, RestClient } from '@knm/client';
import type { FleetNodeListResponse, NodeSortParam } from '@knm/contracts';

/** Options of {@link FleetStore}. */
export interface FleetStoreOptions {
  /** Gateway base URL. */
  url: string;
  /** The current bearer token (`undefined`: none, the session cookie authenticates). */
  token: () => string | undefined;
  /** Rows per page. Default 100. */
  pageSize?: number;
  /** How often the page shown is read again while the view is open. Default 5,000 ms. */
  refreshMs?: number;
}

/**
 * The "All clusters" view: one page of the fleet list (`GET /api/v1/nodes` without
 * `cluster_name`) at a time, paged by its continue tokens, sorted by the gateway.
 * Not live per change: while the view is open the page shown is read again every
 * `refreshMs` (the gateway answers a quiet fleet from its cache); a page whose token
 * went stale (a cluster was resynced, 410) starts again from the first page.
 */
export class FleetStore {
  /** Whether the view is open (the cluster switcher's "All clusters"). */
  readonly active: Ref<boolean> = ref(false);
  readonly page: ShallowRef<FleetNodeListResponse | undefined> = shallowRef();
  readonly error: Ref<string | undefined> = ref();
  /** Why the view went back to its first page, until the next page turn or sort. */
  readonly notice: Ref<string | undefined> = ref();
  readonly sort: Ref<NodeSortParam> = ref('name');
  /** 1-based number of the page shown. */
  readonly pageNumber: Ref<number> = ref(1);
  /**
   * The nodes selected for an operation, as `cluster/node` keys (fleetNodeKey): kept
   * across page turns, sorts and refreshes, so a selection can span pages and clusters.
   */
  readonly selected: ShallowRef<ReadonlySet<string>> = shallowRef(new Set());

  private readonly rest: RestClient;
  /** The continue token of each page shown so far (undefined: the first). */
  private tokens: (string | undefined)[] = [undefined];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Bumped by each read: an older answer arriving late is dropped. */
  private reads = 0;

  constructor(private readonly options: FleetStoreOptions) {
    this.rest = new RestClient({ urls: [options.url], token: () => options.token() ?? '' });
  }

  get pageSize(): number {
    return this.options.pageSize ?? 100;
  }

  /** Opens the view at its first page and keeps it fresh. */
  open(): void {
    this.active.value = true;
    this.first();
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => void this.load(), this.options.refreshMs ?? 5_000);
  }

  /** Closes the view (a cluster was chosen, or sign-out); the selection goes with it. */
  close(): void {
    this.active.value = false;
    this.selected.value = new Set();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.reads += 1;
  }

  /** Reads the page shown again now (an operation across clusters just finished), if the view is open. */
  refresh(): void {
    if (this.active.value) void this.load();
  }

  setSelected(keys: Iterable<string>): void {
    this.selected.value = new Set(keys);
  }

  /** Sorts by `sort` (a header click): the same key again flips the direction. */
  setSort(sort: NodeSortParam): void {
    const current = this.sort.value;
    this.sort.value =
      current === sort ? ((sort.startsWith('-') ? sort.slice(1) : `-${sort}`) as NodeSortParam) : sort;
    this.notice.value = undefined;
    this.first();
  }

  next(): void {
    const token = this.page.value?.continue;
    if (token === undefined) return;
    this.tokens = [...this.tokens.slice(0, this.pageNumber.value), token];
    this.pageNumber.value += 1;
    this.notice.value = undefined;
    void this.load();
  }

  previous(): void {
    if (this.pageNumber.value <= 1) return;
    this.pageNumber.value -= 1;
    this.notice.value = undefined;
    void this.load();
  }

  private first(): void {
    this.tokens = [undefined];
    this.pageNumber.value = 1;
    void this.load();
  }

  private async load(): Promise<void> {
    const read = ++this.reads;
    const token = this.tokens[this.pageNumber.value - 1];
    try {
      const page = await this.rest.listFleetNodes({
        sort: this.sort.value,
        limit: this.pageSize,
        ...(token === undefined ? {} : { continue: token }),
      });
      if (read !== this.reads) return;
      this.page.value = page;
      this.error.value = undefined;
    } catch (err) {
      if (read !== this.reads) return;
      if (err instanceof KnmApiError && err.status === 410 && this.pageNumber.value > 1) {
        this.notice.value = 'a cluster was resynced while paging: back to the first page';
        this.first();
        return;
      }
      this.error.value = err instanceof Error ? err.message : String(err);
    }
  }
}
