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
import { usageStatus, type ClusterSummaryBody, type NodePodsList, type UsageStatus } from '@knm/contracts';
import type { ClusterPreference } from '../clusters/cluster-preference.js';
import type { NodeTableStore } from '../nodes/node-table-store.js';
import { firstPageQuery } from '../nodes/first-page-query.js';
import { describeChange } from './change-description.js';
import type { ChangeNotesStore } from './change-notes-store.js';
import { badgeState, type BadgeState } from './connection-badge.js';

/**
 * Nodes of the first page read when a cluster is chosen: a screenful and then some,
 * shown while the whole cluster (megabytes at 5,000 nodes) is still on its way.
 */
const FIRST_PAGE_NODES = 100;

/**
 * How long the first page goes alone before the whole cluster is read: side by side,
 * the gateways serialize megabytes for the whole list while the page waits its turn.
 */
const FIRST_PAGE_HEAD_START_MS = 1_500;

/** How soon the cluster list is read again while a cluster is syncing. */
const SETTLE_POLL_MS = 1_000;

/** Options of {@link LiveClusterStore}. */
export interface LiveClusterOptions {
  /** Gateway base URL. */
  url: string;
  /** The current bearer token. */
  token: () => string | undefined;
  /** Where the last chosen cluster is remembered. */
  preference: ClusterPreference;
  /** Receives the nodes of the cluster watched. */
  table: NodeTableStore;
  /** Receives the changes worth telling. */
  notes: ChangeNotesStore;
  /** The page's clock (the badge turns `offline` after a while). */
  now: Ref<number>;
  /** The gateway refused the token (expired, or signed with another key): `message` says so. */
  onUnauthorized: (message: string) => void;
  /** Cluster list refresh period. Default 5,000 ms. */
  clusterPollMs?: number;
}

/**
 * The connection to the gateway and the cluster it shows: the cluster list (polled,
 * and updated by `cluster_status` envelopes), the cluster chosen (remembered), and
 * the live watch of it (libs/client: snapshot, replay, gaps and reconnects handled
 * there) whose nodes and changes feed the table and the change notes. Nothing else
 * talks to the gateway for nodes.
 */
export class LiveClusterStore {
  readonly clusters: ShallowRef<ClusterSummaryBody[]> = shallowRef([]);
  readonly clustersError: Ref<string | undefined> = ref();
  readonly cluster: Ref<string | undefined> = ref();
  readonly connection: Ref<ConnectionState> = ref('connecting');
  readonly watchState: Ref<WatchState | undefined> = ref();
  readonly watchError: Ref<string | undefined> = ref();
  readonly lastUpdate: Ref<number | undefined> = ref();
  readonly online: Ref<boolean> = ref(typeof navigator === 'undefined' ? true : navigator.onLine);
  /** The watched cluster's last metrics poll: whether usage is measured, when, or why not (undefined before one). */
  readonly usage: ShallowRef<UsageStatus | undefined> = shallowRef();
  readonly badge: ComputedRef<BadgeState> = computed(() =>
    badgeState({
      client: this.connection.value,
      watch: this.watchState.value,
      wasLive: this.wasLive.value,
      lostAt: this.lostAt.value,
      online: this.online.value,
      now: this.options.now.value,
    }),
  );

  private readonly wasLive = ref(false);
  private readonly lostAt: Ref<number | undefined> = ref();
  private client: KnmClient | undefined;
  private watch: ClusterWatch | undefined;
  private unsubscribeWatch: (() => void)[] = [];
  /** Bumped by every watch opened or closed: a watch still waiting for its first page to go ahead is dropped. */
  private openRun = 0;
  private clusterTimer: ReturnType<typeof setInterval> | undefined;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: LiveClusterOptions) {}

  /** Follows the browser's online / offline events (the badge says `offline` at once). */
  followOnline(): void {
    globalThis.addEventListener('online', () => (this.online.value = true));
    globalThis.addEventListener('offline', () => (this.online.value = false));
  }

  /** Connects (sign-in): lists the clusters and watches the remembered one, or the first. */
  connect(): void {
    this.disconnect();
    const client = connect({ url: this.options.url, token: () => this.options.token() ?? '' });
    this.client = client;
    client.on('state', (state) => {
      this.connection.value = state;
      if (state === 'disconnected' && this.lostAt.value === undefined) this.lostAt.value = Date.now();
      if (state === 'connected') this.lostAt.value = undefined;
    });
    this.connection.value = client.state;
    void this.refreshClusters(true);
    this.clusterTimer = setInterval(
      () => void this.refreshClusters(false),
      this.options.clusterPollMs ?? 5_000,
    );
  }

  /** Closes the connection and clears what it showed (sign-out). */
  disconnect(): void {
    this.closeWatch();
    this.watch = undefined;
    this.client?.close();
    this.client = undefined;
    if (this.clusterTimer) clearInterval(this.clusterTimer);
    this.clusterTimer = undefined;
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    this.options.table.clear();
    this.options.notes.clear();
    this.wasLive.value = false;
  }

  /**
   * The pods behind a node's numbers (the gateway asks the cluster's watcher; a few
   * seconds old at most). Rejects with the gateway's message (`KnmApiError`) when it
   * cannot answer: no watcher leads the cluster, a timeout, an unknown node.
   */
  nodePods(node: string): Promise<NodePodsList> {
    const cluster = this.cluster.value;
    if (!this.client || !cluster) return Promise.reject(new Error('not connected to a cluster'));
    return this.client.rest.nodePods(cluster, node);
  }

  /** Switches the table to `name`, and remembers the choice. */
  selectCluster(name: string): void {
    if (this.cluster.value === name && this.watch) return;
    this.cluster.value = name;
    this.options.preference.remember(name);
    this.openWatch(name);
  }

  /** Lists the clusters again now (after one was added or removed), not at the next poll. */
  reloadClusters(): Promise<void> {
    return this.refreshClusters(false);
  }

  private async refreshClusters(first: boolean): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      const list = await client.rest.listClusters();
      if (client !== this.client) return;
      this.clusters.value = list.items;
      this.clustersError.value = undefined;
      this.settleSoon(list.items.some((c) => c.status === 'syncing'));
      if (first || !this.cluster.value) {
        const pick = this.options.preference.pick(list.items);
        if (pick) this.selectCluster(pick.name);
      }
    } catch (err) {
      if (err instanceof KnmApiError && err.status === 401) {
        this.options.onUnauthorized(
          'the gateway refused the token (expired or signed with another key): sign in again',
        );
        return;
      }
      this.clustersError.value = err instanceof Error ? err.message : String(err);
    }
  }

  /**
   * While a cluster is syncing (one just registered, a watcher taking over), lists the
   * clusters again within a second rather than at the next poll, so it shows ready as
   * soon as it is.
   */
  private settleSoon(syncing: boolean): void {
    if (!syncing || this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      void this.refreshClusters(false);
    }, SETTLE_POLL_MS);
  }

  /** Stops listening to the current watch and closes it. */
  private closeWatch(): void {
    this.openRun += 1;
    for (const off of this.unsubscribeWatch.splice(0)) off();
    this.watch?.close();
    this.watch = undefined;
  }

  private openWatch(name: string): void {
    const { table, notes } = this.options;
    this.closeWatch();
    table.clear();
    table.setSelected([]);
    notes.clear();
    this.usage.value = undefined;
    this.watchError.value = undefined;
    this.wasLive.value = false;
    // Loading from the click on, though the watch itself starts after the first page's head start.
    this.watchState.value = 'loading';
    const client = this.client;
    if (!client) return;
    const run = this.openRun;
    let loaded = false;
    const firstPage = this.showFirstPage(client, name, () => loaded || run !== this.openRun);
    void Promise.race([firstPage, new Promise((r) => setTimeout(r, FIRST_PAGE_HEAD_START_MS))]).then(() => {
      if (run === this.openRun && client === this.client)
        this.startWatch(client, name, () => (loaded = true));
    });
  }

  /** Watches `name`: its snapshot (then `onLoaded`) and its changes feed the table. */
  private startWatch(client: KnmClient, name: string, onLoaded: () => void): void {
    const { table } = this.options;
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
        onLoaded();
        void table.load(watch.view.nodeNames(), (node) => watch.view.node(node));
        this.usage.value = watch.view.usage && usageStatus(watch.view.usage);
        this.lastUpdate.value = Date.now();
      }),
      watch.on('change', (event) => this.onChange(watch, event)),
      watch.on('error', (err) => {
        this.watchError.value =
          err instanceof WatchRefusedError ? `${err.code}: ${err.message}` : err.message;
      }),
    );
  }

  /**
   * Reads the top of the table (the current sort, when the gateway sorts the same
   * way) as one small page and shows it, unless the whole cluster arrived first or
   * the cluster was left (`stale`). Only a preview: the watch's snapshot replaces
   * it, and nothing is lost if it fails.
   */
  private async showFirstPage(client: KnmClient, cluster: string, stale: () => boolean): Promise<void> {
    try {
      const page = await client.rest.listNodes(
        cluster,
        { ...firstPageQuery(this.options.table.sort.value), limit: FIRST_PAGE_NODES },
        { maxStaleSeconds: 1 },
      );
      if (!stale()) this.options.table.showFirstPage(page.items, page.total);
    } catch {
      // The watch's own snapshot read reports the failure (and retries).
    }
  }

  private onChange(watch: ClusterWatch, event: ChangeEvent): void {
    const { table, notes } = this.options;
    const { envelope } = event;
    this.lastUpdate.value = Date.now();
    switch (envelope.type) {
      case 'node_add':
      case 'node_update':
        if (event.node) table.upsert(event.node);
        break;
      case 'node_delete':
        table.remove(envelope.node);
        break;
      case 'pod_counts':
        table.changed(Object.keys(envelope.data.counts), (name) => watch.view.node(name));
        break;
      case 'allocation':
        table.changed(Object.keys(envelope.data.nodes), (name) => watch.view.node(name));
        break;
      case 'usage':
        // Every row's usage mark moves: the table rebuilds them a slice per task.
        this.usage.value = usageStatus(envelope.data);
        table.changed(watch.view.nodeNames(), (name) => watch.view.node(name));
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
    if (note) {
      notes.add(note);
      table.flash(note.node);
    }
  }
}
