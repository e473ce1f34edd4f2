import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ClusterSync, ClusterSyncObserver, LeadershipObserver, SyncState } from '@knm/kube-reflector';
import { PodCountUnderflowError } from '@knm/node-store';
import { EventTally } from './event-tally.js';

const SYNC_STATES: readonly SyncState[] = ['standby', 'reconciling', 'serving', 'repairing'];

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One cluster's view of the process's metrics: what its sync, lease and leader services report. */
export interface ClusterMetrics {
  /** Counts one usage poll. */
  usagePolled(available: boolean): void;
  /** Counts one node pod list answered. */
  nodePodsFetched(result: 'ok' | 'not_found' | 'error'): void;
  /** Feeds the sync engine's events into the metrics. */
  syncObserver(): ClusterSyncObserver;
  /** Feeds leadership transitions into the metrics. */
  leadershipObserver(): LeadershipObserver;
  /**
   * The cluster left this process: its gauges' series go (a stale `is_leader` 1 would
   * lie); its counters stay, as counters do.
   */
  close(): void;
}

/**
 * The watcher process's Prometheus metrics (own registry, `knm_watcher_` prefix) and
 * the observers that feed them. One registry per process, every series labelled by
 * `cluster` (a pool runs many; a single-cluster watcher one), and by resource
 * (`nodes` / `pods`) or write kind where it matters. Counters only go up.
 */
export class WatcherMetrics {
  readonly registry = new Registry();
  private readonly events: Counter<'cluster' | 'resource' | 'type'> = new Counter({
    name: 'knm_watcher_watch_events_total',
    help: 'Raw watch events received, by resource and type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR).',
    labelNames: ['cluster', 'resource', 'type'],
    registers: [this.registry],
    collect: (): void => this.tally.flush(),
  });
  private readonly suppressed = new Counter({
    name: 'knm_watcher_heartbeats_suppressed_total',
    labelNames: ['cluster'],
    help: 'Node updates dropped because nothing that matters changed (kubelet heartbeats).',
    registers: [this.registry],
  });
  private readonly writes = new Counter({
    name: 'knm_watcher_redis_writes_total',
    help: 'Redis writes by kind (nodes, pods, status, heartbeat, synced, rebuild, stage) and result (ok, error, fenced).',
    labelNames: ['cluster', 'kind', 'result'],
    registers: [this.registry],
  });
  private readonly reads = new Counter({
    name: 'knm_watcher_redis_reads_total',
    help: 'Reads of what Redis holds of the cluster (one per reconcile), by result (ok, error).',
    labelNames: ['cluster', 'result'],
    registers: [this.registry],
  });
  private readonly podCountUnderflows = new Counter({
    name: 'knm_watcher_pod_count_underflows_total',
    labelNames: ['cluster'],
    help: 'Pod counts in Redis that a delta would have taken below 0 (Redis disagreed with the pod index; the counts are then rewritten by a repair).',
    registers: [this.registry],
  });
  private readonly reconciles = new Counter({
    name: 'knm_watcher_reconciles_total',
    help: 'Differences between the caches and Redis written as ordinary envelopes, by reason (lead, relist, repair).',
    labelNames: ['cluster', 'reason'],
    registers: [this.registry],
  });
  private readonly reconcileNodeChanges = new Counter({
    name: 'knm_watcher_reconcile_node_changes_total',
    help: 'Node envelopes written by reconciles, by reason (lead, relist, repair).',
    labelNames: ['cluster', 'reason'],
    registers: [this.registry],
  });
  private readonly reconcilePodDeltas = new Counter({
    name: 'knm_watcher_reconcile_pod_deltas_total',
    help: 'Nodes whose pod count a reconcile corrected, by reason (lead, relist, repair).',
    labelNames: ['cluster', 'reason'],
    registers: [this.registry],
  });
  private readonly rebuilds = new Counter({
    name: 'knm_watcher_rebuilds_total',
    labelNames: ['cluster'],
    help: 'Whole-state swaps with a resync (every client reloads): only when Redis held no state of this life.',
    registers: [this.registry],
  });
  private readonly syncState = new Gauge({
    name: 'knm_watcher_sync_state',
    help: '1 for the state the engine is in (standby, reconciling, serving, repairing), 0 for the others.',
    labelNames: ['cluster', 'state'],
    registers: [this.registry],
  });
  private readonly writeSeconds = new Histogram({
    name: 'knm_watcher_redis_write_seconds',
    help: 'Duration of successful Redis writes, by kind.',
    labelNames: ['cluster', 'kind'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly lagSeconds = new Histogram({
    name: 'knm_watcher_event_to_redis_lag_seconds',
    help: 'From a watch event arriving (the oldest of a coalesced batch) to its write completing, by kind.',
    labelNames: ['cluster', 'kind'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly relists = new Counter({
    name: 'knm_watcher_relists_total',
    help: 'Completed full lists, by resource and reason (initial, expired, stuck).',
    labelNames: ['cluster', 'resource', 'reason'],
    registers: [this.registry],
  });
  private readonly expired = new Counter({
    name: 'knm_watcher_watch_expired_total',
    help: '410 Expired answers (HTTP or watch ERROR events), by resource.',
    labelNames: ['cluster', 'resource'],
    registers: [this.registry],
  });
  private readonly restarts = new Counter({
    name: 'knm_watcher_watch_restarts_total',
    help: 'Watches that ended, by resource and reason (closed, watchdog, error, expired).',
    labelNames: ['cluster', 'resource', 'reason'],
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'knm_watcher_errors_total',
    help: 'Failed list/watch requests or streams, by resource and error class.',
    labelNames: ['cluster', 'resource', 'error'],
    registers: [this.registry],
  });
  private readonly leadershipChanges = new Counter({
    name: 'knm_watcher_leadership_changes_total',
    help: 'Transitions of this replica, by new role (leader, standby).',
    labelNames: ['cluster', 'role'],
    registers: [this.registry],
  });
  private readonly leader = new Gauge({
    name: 'knm_watcher_is_leader',
    labelNames: ['cluster'],
    help: '1 while this replica leads its cluster.',
    registers: [this.registry],
  });
  private readonly lastEvent: Gauge<'cluster' | 'resource'> = new Gauge({
    name: 'knm_watcher_last_event_timestamp_seconds',
    help: 'Unix time of the last watch event (bookmarks included), by resource.',
    labelNames: ['cluster', 'resource'],
    registers: [this.registry],
    collect: (): void => this.tally.flush(),
  });
  /** Watch events counted as they come, handed to `events` and `lastEvent` when they are collected. */
  private readonly tally: EventTally = new EventTally(this.events, this.lastEvent);

  private readonly usagePolls = new Counter({
    name: 'knm_watcher_usage_polls_total',
    help: 'Polls of the metrics API (metrics.k8s.io node metrics) by the leader, by outcome (available, unavailable).',
    labelNames: ['cluster', 'outcome'],
    registers: [this.registry],
  });
  private readonly nodePodsRequests = new Counter({
    name: 'knm_watcher_node_pods_fetches_total',
    help: "Node pod lists fetched for the gateways' requests, by result (ok, not_found, error).",
    labelNames: ['cluster', 'result'],
    registers: [this.registry],
  });

  /** The clusters whose sync the collected gauges read, by name. */
  private readonly syncs = new Map<string, () => ClusterSync | undefined>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'knm_watcher_' });
    const registers = [this.registry];
    const syncs = this.syncs;
    // prom-client calls collect() with the gauge as `this`; series of departed clusters are dropped by reset().
    const perCluster = (
      name: string,
      help: string,
      read: (sync: ClusterSync | undefined) => number,
    ): void => {
      new Gauge({
        name,
        help,
        labelNames: ['cluster'],
        registers,
        collect() {
          this.reset();
          for (const [cluster, getSync] of syncs) this.set({ cluster }, read(getSync()));
        },
      });
    };
    perCluster('knm_watcher_synced', '1 once Nodes and Pods have been listed and applied.', (s) =>
      s?.synced ? 1 : 0,
    );
    perCluster('knm_watcher_nodes', 'Nodes held.', (s) => s?.nodeCache.size ?? 0);
    perCluster(
      'knm_watcher_pods_counted',
      'Pods counted (bound, not Succeeded/Failed).',
      (s) => s?.podIndex.size ?? 0,
    );
    perCluster(
      'knm_watcher_pod_index_bytes_per_pod',
      'Bytes held by the pod-count index per pod counted (its own estimate).',
      (s) => (s && s.podIndex.size > 0 ? s.podIndex.byteSize / s.podIndex.size : 0),
    );
    new Gauge({
      name: 'knm_watcher_heap_bytes_per_pod',
      help: 'Process heap used (plus array buffers) divided by the pods counted in every cluster of the process; 0 without pods.',
      registers,
      collect() {
        let pods = 0;
        for (const getSync of syncs.values()) pods += getSync()?.podIndex.size ?? 0;
        const m = process.memoryUsage();
        this.set(pods > 0 ? (m.heapUsed + m.arrayBuffers) / pods : 0);
      },
    });
  }

  /** The metrics of `cluster`, whose engine `sync` answers (undefined until it is built). */
  forCluster(cluster: string, sync: () => ClusterSync | undefined): ClusterMetrics {
    this.syncs.set(cluster, sync);
    for (const s of SYNC_STATES) this.syncState.set({ cluster, state: s }, s === 'standby' ? 1 : 0);
    return {
      usagePolled: (available) =>
        this.usagePolls.inc({ cluster, outcome: available ? 'available' : 'unavailable' }),
      nodePodsFetched: (result) => this.nodePodsRequests.inc({ cluster, result }),
      syncObserver: () => this.syncObserver(cluster),
      leadershipObserver: () => ({
        onLeading: () => {
          this.leader.set({ cluster }, 1);
          this.leadershipChanges.inc({ cluster, role: 'leader' });
        },
        onStandby: () => {
          this.leader.set({ cluster }, 0);
          this.leadershipChanges.inc({ cluster, role: 'standby' });
        },
      }),
      close: () => {
        if (this.syncs.get(cluster) !== sync) return; // a newer watcher of the cluster owns the series now
        this.syncs.delete(cluster);
        this.leader.remove({ cluster });
        for (const state of SYNC_STATES) this.syncState.remove({ cluster, state });
        this.tally.forget(cluster);
      },
    };
  }

  private syncObserver(cluster: string): ClusterSyncObserver {
    return {
      onEvent: (resource, type) => this.tally.count(cluster, resource, type),
      onSuppressed: () => this.suppressed.inc({ cluster }),
      onListed: (resource, info) => this.relists.inc({ cluster, resource, reason: info.reason }),
      onExpired: (resource) => this.expired.inc({ cluster, resource }),
      onWatchEnded: (resource, info) => {
        if (info.reason !== 'stopped') this.restarts.inc({ cluster, resource, reason: info.reason });
      },
      onError: (resource, error) => this.errors.inc({ cluster, resource, error: error.name }),
      onWrite: (kind, info) => {
        if (kind === 'read') {
          this.reads.inc({ cluster, result: 'ok' });
          return;
        }
        this.writes.inc({ cluster, kind, result: 'ok' });
        this.writeSeconds.observe({ cluster, kind }, info.durationMs / 1000);
        if (info.lagMs !== undefined) this.lagSeconds.observe({ cluster, kind }, info.lagMs / 1000);
      },
      onWriteError: (kind, error) => {
        if (kind === 'read') this.reads.inc({ cluster, result: 'error' });
        else this.writes.inc({ cluster, kind, result: 'error' });
        if (error instanceof PodCountUnderflowError)
          this.podCountUnderflows.inc({ cluster }, error.nodes.length);
      },
      onReconciled: ({ reason, nodeChanges, podDeltas }) => {
        this.reconciles.inc({ cluster, reason });
        this.reconcileNodeChanges.inc({ cluster, reason }, nodeChanges);
        this.reconcilePodDeltas.inc({ cluster, reason }, podDeltas);
      },
      onRebuilt: () => this.rebuilds.inc({ cluster }),
      onState: (state) => {
        for (const s of SYNC_STATES) this.syncState.set({ cluster, state: s }, s === state ? 1 : 0);
      },
      onWriteFenced: (kind) => this.writes.inc({ cluster, kind, result: 'fenced' }),
    };
  }
}
