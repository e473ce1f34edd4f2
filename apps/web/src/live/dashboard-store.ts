import { ref, type Ref } from 'vue';
import { ProviderSession } from '../auth/provider-session.js';
import { SessionStore } from '../auth/session-store.js';
import { ClusterPreference } from '../clusters/cluster-preference.js';
import { ClusterRegistryApi } from '../clusters/cluster-registry-api.js';
import type { HistoryPage } from '@knm/contracts';
import { FleetStore } from '../fleet/fleet-store.js';
import { HistoryApi } from '../history/history-api.js';
import { IncidentsStore } from '../history/incidents-store.js';
import { NodeTableStore } from '../nodes/node-table-store.js';
import { OperationsStore } from '../operations/operations-store.js';
import { browserStorage, type DashboardStorage } from '../storage/dashboard-storage.js';
import { ChangeNotesStore } from './change-notes-store.js';
import { LiveClusterStore } from './live-cluster-store.js';

/** Options of {@link DashboardStore}. */
export interface DashboardStoreOptions {
  /** Gateway base URL. Default: the page's origin. */
  url?: string;
  /** Where the token (session) and the last cluster (local) are kept. Default the page's storage. */
  storage?: DashboardStorage;
  /** Cluster list refresh period. Default 5,000 ms. */
  clusterPollMs?: number;
  /** How long a changed row flashes. Default 1,500 ms. */
  flashMs?: number;
  /** Table refresh coalescing: changes within this window re-sort once. Default 120 ms. */
  refreshMs?: number;
  /** Changes kept per node for its drawer. Default 20. */
  recentPerNode?: number;
}

/**
 * The dashboard's state, one store per concern, and what ties them together:
 * signing in opens the connections, signing out (or a token the gateway refuses)
 * closes them and clears the view. Components read the stores' refs and call their
 * methods; only the stores and the API objects here talk to the network.
 */
export class DashboardStore {
  /** Who is signed in (token, claims, sign-in errors). */
  readonly session: SessionStore;
  /** The cluster list, the cluster shown and the live connection to it. */
  readonly live: LiveClusterStore;
  /** The node table: rows, search, filters, sort, selection, flashes. */
  readonly table: NodeTableStore;
  /** Toasts and each node's recent changes. */
  readonly notes: ChangeNotesStore;
  /** The "All clusters" view: a page of the fleet list, refreshed while open. */
  readonly fleet: FleetStore;
  /** Operations started and followed from this tab. */
  readonly operations: OperationsStore;
  /** The current cluster's incidents view: incidents and MTTR per pool, refreshed while open. */
  readonly incidents: IncidentsStore;
  /** Node history, incidents and MTTR reads. */
  readonly history: HistoryApi;
  /** The cluster registry's calls (admin: test, add, remove). */
  readonly registry: ClusterRegistryApi;
  /** Sign-in through the identity provider (the gateway's session cookie). */
  readonly provider: ProviderSession;
  /** The page's clock, ticking every second (ages, the badge). */
  readonly now: Ref<number> = ref(Date.now());

  private clockTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: DashboardStoreOptions = {}) {
    const url = options.url ?? globalThis.location.origin;
    const storage = options.storage ?? browserStorage();
    const token = (): string | undefined => this.session.token.get();
    this.provider = new ProviderSession(url);
    this.session = new SessionStore(storage.session, {
      signedIn: () => {
        this.live.connect();
        this.operations.open();
      },
      signedOut: () => {
        this.fleet.close();
        this.incidents.close();
        this.live.disconnect();
        this.operations.close();
      },
    });
    this.table = new NodeTableStore({ flashMs: options.flashMs, refreshMs: options.refreshMs });
    this.notes = new ChangeNotesStore({ recentPerNode: options.recentPerNode });
    this.operations = new OperationsStore({ url, token });
    this.registry = new ClusterRegistryApi({ baseUrl: url, token });
    this.fleet = new FleetStore({ url, token });
    this.history = new HistoryApi({ baseUrl: url, token });
    this.incidents = new IncidentsStore({ api: this.history, cluster: () => this.live.cluster.value });
    this.live = new LiveClusterStore({
      url,
      token,
      preference: new ClusterPreference(storage.local),
      table: this.table,
      notes: this.notes,
      now: this.now,
      onUnauthorized: (message) => {
        const viaProvider = this.session.viaProvider.value;
        this.session.signOut(message);
        // The gateway's own words (the provider refused to renew, the session's time is up).
        if (viaProvider) void this.resumeProviderSession();
      },
      clusterPollMs: options.clusterPollMs,
    });
  }

  /**
   * Starts the app: adopts a `#token=` fragment (and removes it from the address
   * bar, so it is neither bookmarked nor shared), then connects when a token is stored.
   */
  start(): void {
    const rest = this.session.adoptFragment(globalThis.location.hash);
    if (rest !== undefined) history.replaceState(null, '', `${location.pathname}${location.search}${rest}`);
    this.live.followOnline();
    this.clockTimer ??= setInterval(() => (this.now.value = Date.now()), 1_000);
    this.session.resume();
    if (!this.session.claims.value) void this.resumeProviderSession();
  }

  /**
   * Asks the gateway whether this browser is signed in through the identity provider
   * (after its redirect back, or a reload), and whether that sign-in is offered.
   */
  async resumeProviderSession(): Promise<void> {
    const status = await this.provider.status().catch(() => undefined);
    if (!status || this.session.claims.value) return;
    if (status.signedIn) return this.session.signInWithProvider(status.claims);
    this.session.providerOffered.value = status.offered;
    if (status.error !== undefined) this.session.signInError.value = status.error;
  }

  /** One page of `node`'s history in the current cluster, newest first, before the entry ID `before`. */
  nodeHistory(node: string, before?: string): Promise<HistoryPage> {
    const cluster = this.live.cluster.value;
    if (cluster === undefined) return Promise.reject(new Error('not connected to a cluster'));
    return this.history.nodeHistory(cluster, node, before === undefined ? {} : { before });
  }

  /** The sign-out button: a provider session also ends at the gateway, then at the provider. */
  async signOut(): Promise<void> {
    const viaProvider = this.session.viaProvider.value;
    this.session.signOut();
    if (!viaProvider) return;
    this.session.providerOffered.value = true;
    const endSessionUrl = await this.provider.signOut().catch(() => undefined);
    if (endSessionUrl !== undefined) globalThis.location.assign(endSessionUrl);
  }
}
