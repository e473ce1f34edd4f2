import { computed, ref, shallowRef, type ComputedRef, type Ref, type ShallowRef } from 'vue';
import {
  KnmApiError,
  WatchRefusedError,
  connect,
  type ChangeEvent,
  type ClusterWatch,
  type ConnectionState,
  type KnmClient,
  type WatchState,
} from '@knm/client';
import { roleAtLeast, type ClusterSummaryBody, type Operation } from '@knm/contracts';
import { SessionToken, type SessionClaims } from '../auth/session-token.js';
import { selectRows, type NodeCriteria, type NodeSort } from '../nodes/node-filter.js';
import { toNodeRow, type NodeRow } from '../nodes/node-row.js';
import { OperationsApi, OperationsApiError } from '../operations/operations-api.js';
import { OperationTracker } from '../operations/operation-tracker.js';
import { describeChange, type ChangeNote } from './change-description.js';
import { badgeState, type BadgeState } from './connection-badge.js';
import { ToastBatcher, type Toast } from './toast-batcher.js';

/** A change remembered for a node's drawer. */
export interface SeenChange {
  at: number;
  text: string;
}

/** Options of {@link DashboardStore}. */
export interface DashboardStoreOptions {
  /** Gateway base URL. Default: the page's origin. */
  url?: string;
  /** Where the token is kept. Default `window.sessionStorage`. */
  storage?: Storage;
  /** Cluster list refresh period. Default 5,000 ms. */
  clusterPollMs?: number;
  /** How long a changed row flashes. Default 1,500 ms. */
  flashMs?: number;
  /** Table refresh coalescing: changes within this window re-sort once. Default 120 ms. */
  refreshMs?: number;
  /** Changes kept per node for its drawer. Default 20. */
  recentPerNode?: number;
}

const CLUSTER_PREFERENCE = 'knm.cluster';

/**
 * The dashboard's state and its connection to the gateway: the session, the
 * cluster list, the live watch of the chosen cluster (libs/client: snapshot, replay,
 * gaps and reconnects handled there), the table rows derived from it, flashes,
 * toasts, per-node recent changes and the operations this tab follows. Components
 * read its refs and call its methods; nothing else talks to the network.
 *
 * Rows are kept in a plain Map (5,000 nodes would make a deep reactive proxy slow)
 * and `rowsVersion` tells Vue when to recompute the filtered, sorted list; bursts of
 * changes are coalesced into one recompute per `refreshMs`.
 */
export class DashboardStore {
  readonly session: SessionToken;
  readonly claims: Ref<SessionClaims | undefined> = ref();
  readonly signInError: Ref<string | undefined> = ref();
  readonly clusters: ShallowRef<ClusterSummaryBody[]> = shallowRef([]);
  readonly clustersError: Ref<string | undefined> = ref();
  readonly cluster: Ref<string | undefined> = ref();
  readonly connection: Ref<ConnectionState> = ref('connecting');
  readonly watchState: Ref<WatchState | undefined> = ref();
  readonly watchError: Ref<string | undefined> = ref();
  readonly lastUpdate: Ref<number | undefined> = ref();
  readonly now: Ref<number> = ref(Date.now());
  readonly online: Ref<boolean> = ref(typeof navigator === 'undefined' ? true : navigator.onLine);
  readonly rowsVersion = ref(0);
  readonly flashing: ShallowRef<ReadonlySet<string>> = shallowRef(new Set());
  readonly toasts: ShallowRef<readonly Toast[]> = shallowRef([]);
  readonly selected: ShallowRef<ReadonlySet<string>> = shallowRef(new Set());
  readonly operations: ShallowRef<readonly Operation[]> = shallowRef([]);
  readonly criteria: ShallowRef<NodeCriteria> = shallowRef({ search: '', quick: new Set() });
  readonly sort: ShallowRef<NodeSort> = shallowRef({ key: 'name', descending: false });
  readonly visibleRows: ComputedRef<NodeRow[]>;
  readonly badge: ComputedRef<BadgeState>;
  readonly canOperate: ComputedRef<boolean>;
  readonly api: OperationsApi;
  /** Bumped whenever a node's recent changes grow (the drawer re-reads them). */
  readonly recentVersion = ref(0);

  private readonly rows = new Map<string, NodeRow>();
  private readonly recent = new Map<string, SeenChange[]>();
  private readonly flashUntil = new Map<string, number>();
  private readonly toastBatcher: ToastBatcher;
  private readonly wasLive = ref(false);
  private readonly lostAt: Ref<number | undefined> = ref();
  private client: KnmClient | undefined;
  private watch: ClusterWatch | undefined;
  private tracker: OperationTracker | undefined;
  private unsubscribeWatch: (() => void)[] = [];
  private clockTimer: ReturnType<typeof setInterval> | undefined;
  private clusterTimer: ReturnType<typeof setInterval> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private flashTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly options: Required<Omit<DashboardStoreOptions, 'url' | 'storage'>> & { url: string };

  constructor(options: DashboardStoreOptions = {}) {
    this.options = {
      url: options.url ?? globalThis.location.origin,
      clusterPollMs: options.clusterPollMs ?? 5_000,
      flashMs: options.flashMs ?? 1_500,
      refreshMs: options.refreshMs ?? 120,
      recentPerNode: options.recentPerNode ?? 20,
    };
    this.session = new SessionToken(options.storage ?? globalThis.sessionStorage);
    this.api = new OperationsApi({ baseUrl: this.options.url, token: () => this.session.get() });
    this.toastBatcher = new ToastBatcher((toasts) => (this.toasts.value = toasts));
    this.visibleRows = computed(() => {
      void this.rowsVersion.value;
      return selectRows(this.rows.values(), this.criteria.value, this.sort.value);
    });
    this.badge = computed(() =>
      badgeState({
        client: this.connection.value,
        watch: this.watchState.value,
        wasLive: this.wasLive.value,
        lostAt: this.lostAt.value,
        online: this.online.value,
        now: this.now.value,
      }),
    );
    this.canOperate = computed(() => !!this.claims.value && roleAtLeast(this.claims.value.role, 'operator'));
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

  /** Changes seen for `name` since the page loaded, newest first. */
  recentChanges(name: string): SeenChange[] {
    void this.recentVersion.value;
    return [...(this.recent.get(name) ?? [])].reverse();
  }

  /**
   * Starts the app: adopts a `#token=` fragment (and removes it from the address
   * bar), then connects when a token is stored.
   */
  start(): void {
    const adopted = this.session.adoptFragment(globalThis.location.hash);
    if (adopted) {
      history.replaceState(null, '', `${location.pathname}${location.search}${adopted.rest}`);
      if (adopted.error) this.signInError.value = adopted.error;
    }
    globalThis.addEventListener('online', () => (this.online.value = true));
    globalThis.addEventListener('offline', () => (this.online.value = false));
    this.clockTimer ??= setInterval(() => (this.now.value = Date.now()), 1_000);
    const token = this.session.get();
    if (token) this.signIn(token);
  }

  /** Signs in with `token` (checked to read as a knm token; the gateway verifies it). */
  signIn(token: string): void {
    try {
      const claims = this.session.set(token);
      if (claims.expiresAt !== undefined && claims.expiresAt <= Date.now()) {
        this.session.clear();
        this.signInError.value = 'this token has expired: create a new one (npm run token)';
        return;
      }
      this.claims.value = claims;
      this.signInError.value = undefined;
    } catch (err) {
      this.signInError.value = err instanceof Error ? err.message : String(err);
      return;
    }
    this.connect();
  }

  /** Signs out: forgets the token, closes every connection, clears the view. */
  signOut(message?: string): void {
    this.disconnect();
    this.session.clear();
    this.claims.value = undefined;
    this.signInError.value = message;
  }

  /** Switches the table to `name`. */
  selectCluster(name: string): void {
    if (this.cluster.value === name && this.watch) return;
    this.cluster.value = name;
    localStorage.setItem(CLUSTER_PREFERENCE, name);
    this.openWatch(name);
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

  dismissToast(id: number): void {
    this.toastBatcher.dismiss(id);
  }

  /** Follows a started operation's progress. */
  trackOperation(operation: Operation): void {
    this.tracker?.track(operation);
  }

  /**
   * Cancels an operation this tab follows; the answer (`cancelled`, or `running` with
   * its cancel mark) replaces the one shown, and `operation_progress` brings the rest.
   * A refusal (it had just finished: 409) changes nothing: the next event or poll shows
   * the state it reached.
   */
  async cancelOperation(id: string): Promise<void> {
    try {
      this.tracker?.track(await this.api.cancel(id));
    } catch (err) {
      if (!(err instanceof OperationsApiError)) throw err;
    }
  }

  dismissOperation(id: string): void {
    this.tracker?.dismiss(id);
  }

  private connect(): void {
    this.disconnect();
    const client = connect({ url: this.options.url, token: () => this.session.get() ?? '' });
    this.client = client;
    client.on('state', (state) => {
      this.connection.value = state;
      if (state === 'disconnected' && this.lostAt.value === undefined) this.lostAt.value = Date.now();
      if (state === 'connected') this.lostAt.value = undefined;
    });
    this.connection.value = client.state;
    this.tracker = new OperationTracker({
      url: this.options.url,
      token: () => this.session.get(),
      get: (id) => this.api.get(id),
      onChange: (ops) => (this.operations.value = ops),
    });
    void this.refreshClusters(true);
    this.clusterTimer = setInterval(() => void this.refreshClusters(false), this.options.clusterPollMs);
  }

  private disconnect(): void {
    for (const off of this.unsubscribeWatch.splice(0)) off();
    this.watch?.close();
    this.watch = undefined;
    this.client?.close();
    this.client = undefined;
    this.tracker?.close();
    this.tracker = undefined;
    if (this.clusterTimer) clearInterval(this.clusterTimer);
    this.clusterTimer = undefined;
    this.rows.clear();
    this.recent.clear();
    this.toastBatcher.clear();
    this.rowsVersion.value += 1;
    this.wasLive.value = false;
  }

  private async refreshClusters(first: boolean): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      const list = await client.rest.listClusters();
      if (client !== this.client) return;
      this.clusters.value = list.items;
      this.clustersError.value = undefined;
      if (first || !this.cluster.value) {
        const preferred = localStorage.getItem(CLUSTER_PREFERENCE);
        const pick = list.items.find((c) => c.name === preferred) ?? list.items[0];
        if (pick) this.selectCluster(pick.name);
      }
    } catch (err) {
      if (err instanceof KnmApiError && err.status === 401) {
        this.signOut('the gateway refused the token (expired or signed with another key): sign in again');
        return;
      }
      this.clustersError.value = err instanceof Error ? err.message : String(err);
    }
  }

  private openWatch(name: string): void {
    for (const off of this.unsubscribeWatch.splice(0)) off();
    this.watch?.close();
    this.rows.clear();
    this.recent.clear();
    this.selected.value = new Set();
    this.toastBatcher.clear();
    this.rowsVersion.value += 1;
    this.watchError.value = undefined;
    this.wasLive.value = false;
    const client = this.client;
    if (!client) return;
    const watch = client.watchCluster(name);
    this.watch = watch;
    this.watchState.value = watch.state;
    this.unsubscribeWatch.push(
      watch.on('state', (state) => {
        this.watchState.value = state;
        if (state === 'live') {
          this.wasLive.value = true;
          this.watchError.value = undefined;
        }
      }),
      watch.on('reload', () => {
        this.rows.clear();
        for (const node of watch.nodes()) this.rows.set(node.name, toNodeRow(node));
        this.lastUpdate.value = Date.now();
        this.rowsVersion.value += 1;
      }),
      watch.on('change', (event) => this.onChange(watch, event)),
      watch.on('error', (err) => {
        this.watchError.value =
          err instanceof WatchRefusedError ? `${err.code}: ${err.message}` : err.message;
      }),
    );
  }

  private onChange(watch: ClusterWatch, event: ChangeEvent): void {
    const { envelope } = event;
    this.lastUpdate.value = Date.now();
    switch (envelope.type) {
      case 'node_add':
      case 'node_update':
        if (event.node) this.rows.set(envelope.node, toNodeRow(event.node));
        break;
      case 'node_delete':
        this.rows.delete(envelope.node);
        break;
      case 'pod_counts':
        for (const name of Object.keys(envelope.data.counts)) {
          const node = watch.view.node(name);
          if (node) this.rows.set(name, toNodeRow(node));
        }
        break;
      case 'cluster_status':
        this.clusters.value = this.clusters.value.map((c) =>
          c.name === watch.cluster ? { ...c, ...envelope.data } : c,
        );
        break;
      default:
        break;
    }
    const note = describeChange(event);
    if (note) this.noteChange(note);
    this.scheduleRefresh();
  }

  private noteChange(note: ChangeNote): void {
    const list = this.recent.get(note.node) ?? [];
    list.push({ at: Date.now(), text: note.text });
    if (list.length > this.options.recentPerNode) list.splice(0, list.length - this.options.recentPerNode);
    this.recent.set(note.node, list);
    this.recentVersion.value += 1;
    this.flashUntil.set(note.node, Date.now() + this.options.flashMs);
    this.toastBatcher.push(note);
    this.scheduleFlashSweep();
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.rowsVersion.value += 1;
      this.flashing.value = new Set(this.flashUntil.keys());
    }, this.options.refreshMs);
  }

  private scheduleFlashSweep(): void {
    if (this.flashTimer) return;
    this.flashTimer = setTimeout(() => {
      this.flashTimer = undefined;
      const now = Date.now();
      for (const [name, until] of this.flashUntil) if (until <= now) this.flashUntil.delete(name);
      this.flashing.value = new Set(this.flashUntil.keys());
      if (this.flashUntil.size > 0) this.scheduleFlashSweep();
    }, 250);
  }
}
