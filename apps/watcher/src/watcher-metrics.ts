import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ClusterSync, ClusterSyncObserver, LeadershipObserver, SyncState } from '@knm/kube-reflector';
import { PodCountUnderflowError } from '@knm/node-store';

const SYNC_STATES: readonly SyncState[] = ['standby', 'reconciling', 'serving', 'repairing'];

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The watcher's Prometheus metrics (own registry, `knm_watcher_` prefix) and the
 * observers that feed them. Counters only go up; everything is labelled by
 * resource (`nodes` / `pods`) or write kind where it matters.
 */
export class WatcherMetrics {
  readonly registry = new Registry();
  private readonly events = new Counter({
    name: 'knm_watcher_watch_events_total',
    help: 'Raw watch events received, by resource and type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR).',
    labelNames: ['resource', 'type'],
    registers: [this.registry],
  });
  private readonly suppressed = new Counter({
    name: 'knm_watcher_heartbeats_suppressed_total',
    help: 'Node updates dropped because nothing that matters changed (kubelet heartbeats).',
    registers: [this.registry],
  });
  private readonly writes = new Counter({
    name: 'knm_watcher_redis_writes_total',
    help: 'Redis writes by kind (nodes, pods, status, heartbeat, synced, rebuild) and result (ok, error, fenced).',
    labelNames: ['kind', 'result'],
    registers: [this.registry],
  });
  private readonly reads = new Counter({
    name: 'knm_watcher_redis_reads_total',
    help: 'Reads of what Redis holds of the cluster (one per reconcile), by result (ok, error).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly podCountUnderflows = new Counter({
    name: 'knm_watcher_pod_count_underflows_total',
    help: 'Pod counts in Redis that a delta would have taken below 0 (Redis disagreed with the pod index; the counts are then rewritten by a repair).',
    registers: [this.registry],
  });
  private readonly reconciles = new Counter({
    name: 'knm_watcher_reconciles_total',
    help: 'Differences between the caches and Redis written as ordinary envelopes, by reason (lead, relist, repair).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly reconcileNodeChanges = new Counter({
    name: 'knm_watcher_reconcile_node_changes_total',
    help: 'Node envelopes written by reconciles, by reason (lead, relist, repair).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly reconcilePodDeltas = new Counter({
    name: 'knm_watcher_reconcile_pod_deltas_total',
    help: 'Nodes whose pod count a reconcile corrected, by reason (lead, relist, repair).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly rebuilds = new Counter({
    name: 'knm_watcher_rebuilds_total',
    help: 'Whole-state swaps with a resync (every client reloads): only when Redis held no state of this life.',
    registers: [this.registry],
  });
  private readonly syncState = new Gauge({
    name: 'knm_watcher_sync_state',
    help: '1 for the state the engine is in (standby, reconciling, serving, repairing), 0 for the others.',
    labelNames: ['state'],
    registers: [this.registry],
  });
  private readonly writeSeconds = new Histogram({
    name: 'knm_watcher_redis_write_seconds',
    help: 'Duration of successful Redis writes, by kind.',
    labelNames: ['kind'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly lagSeconds = new Histogram({
    name: 'knm_watcher_event_to_redis_lag_seconds',
    help: 'From a watch event arriving (the oldest of a coalesced batch) to its write completing, by kind.',
    labelNames: ['kind'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly relists = new Counter({
    name: 'knm_watcher_relists_total',
    help: 'Completed full lists, by resource and reason (initial, expired, stuck).',
    labelNames: ['resource', 'reason'],
    registers: [this.registry],
  });
  private readonly expired = new Counter({
    name: 'knm_watcher_watch_expired_total',
    help: '410 Expired answers (HTTP or watch ERROR events), by resource.',
    labelNames: ['resource'],
    registers: [this.registry],
  });
  private readonly restarts = new Counter({
    name: 'knm_watcher_watch_restarts_total',
    help: 'Watches that ended, by resource and reason (closed, watchdog, error, expired).',
    labelNames: ['resource', 'reason'],
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'knm_watcher_errors_total',
    help: 'Failed list/watch requests or streams, by resource and error class.',
    labelNames: ['resource', 'error'],
    registers: [this.registry],
  });
  private readonly leadershipChanges = new Counter({
    name: 'knm_watcher_leadership_changes_total',
    help: 'Transitions of this replica, by new role (leader, standby).',
    labelNames: ['role'],
    registers: [this.registry],
  });
  private readonly leader = new Gauge({
    name: 'knm_watcher_is_leader',
    help: '1 while this replica leads its cluster.',
    registers: [this.registry],
  });
  private readonly lastEvent = new Gauge({
    name: 'knm_watcher_last_event_timestamp_seconds',
    help: 'Unix time of the last watch event (bookmarks included), by resource.',
    labelNames: ['resource'],
    registers: [this.registry],
  });

  private readonly usagePolls = new Counter({
    name: 'knm_watcher_usage_polls_total',
    help: 'Polls of the metrics API (metrics.k8s.io node metrics) by the leader, by outcome (available, unavailable).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly nodePodsRequests = new Counter({
    name: 'knm_watcher_node_pods_fetches_total',
    help: "Node pod lists fetched for the gateways' requests, by result (ok, not_found, error).",
    labelNames: ['result'],
    registers: [this.registry],
  });

  constructor(private readonly sync: () => ClusterSync | undefined) {
    collectDefaultMetrics({ register: this.registry, prefix: 'knm_watcher_' });
    for (const s of SYNC_STATES) this.syncState.set({ state: s }, s === 'standby' ? 1 : 0);
    const registers = [this.registry];
    // prom-client calls collect() with the gauge as `this`.
    const getSync = this.sync;
    new Gauge({
      name: 'knm_watcher_synced',
      help: '1 once Nodes and Pods have been listed and applied.',
      registers,
      collect() {
        this.set(getSync()?.synced ? 1 : 0);
      },
    });
    new Gauge({
      name: 'knm_watcher_nodes',
      help: 'Nodes held.',
      registers,
      collect() {
        this.set(getSync()?.nodeCache.size ?? 0);
      },
    });
    new Gauge({
      name: 'knm_watcher_pods_counted',
      help: 'Pods counted (bound, not Succeeded/Failed).',
      registers,
      collect() {
        this.set(getSync()?.podIndex.size ?? 0);
      },
    });
    new Gauge({
      name: 'knm_watcher_heap_bytes_per_pod',
      help: 'Process heap used (plus array buffers) divided by the pods counted; 0 without pods.',
      registers,
      collect() {
        const pods = getSync()?.podIndex.size ?? 0;
        const m = process.memoryUsage();
        this.set(pods > 0 ? (m.heapUsed + m.arrayBuffers) / pods : 0);
      },
    });
    new Gauge({
      name: 'knm_watcher_pod_index_bytes_per_pod',
      help: 'Bytes held by the pod-count index per pod counted (its own estimate).',
      registers,
      collect() {
        const index = getSync()?.podIndex;
        this.set(index && index.size > 0 ? index.byteSize / index.size : 0);
      },
    });
  }

  /** Counts one usage poll. */
  usagePolled(available: boolean): void {
    this.usagePolls.inc({ outcome: available ? 'available' : 'unavailable' });
  }

  /** Counts one node pod list answered. */
  nodePodsFetched(result: 'ok' | 'not_found' | 'error'): void {
    this.nodePodsRequests.inc({ result });
  }

  /** Feeds the sync engine's events into the metrics. */
  syncObserver(): ClusterSyncObserver {
    return {
      onEvent: (resource, type) => {
        this.events.inc({ resource, type });
        this.lastEvent.set({ resource }, Date.now() / 1000);
      },
      onSuppressed: () => this.suppressed.inc(),
      onListed: (resource, info) => this.relists.inc({ resource, reason: info.reason }),
      onExpired: (resource) => this.expired.inc({ resource }),
      onWatchEnded: (resource, info) => {
        if (info.reason !== 'stopped') this.restarts.inc({ resource, reason: info.reason });
      },
      onError: (resource, error) => this.errors.inc({ resource, error: error.name }),
      onWrite: (kind, info) => {
        if (kind === 'read') {
          this.reads.inc({ result: 'ok' });
          return;
        }
        this.writes.inc({ kind, result: 'ok' });
        this.writeSeconds.observe({ kind }, info.durationMs / 1000);
        if (info.lagMs !== undefined) this.lagSeconds.observe({ kind }, info.lagMs / 1000);
      },
      onWriteError: (kind, error) => {
        if (kind === 'read') this.reads.inc({ result: 'error' });
        else this.writes.inc({ kind, result: 'error' });
        if (error instanceof PodCountUnderflowError) this.podCountUnderflows.inc(error.nodes.length);
      },
      onReconciled: ({ reason, nodeChanges, podDeltas }) => {
        this.reconciles.inc({ reason });
        this.reconcileNodeChanges.inc({ reason }, nodeChanges);
        this.reconcilePodDeltas.inc({ reason }, podDeltas);
      },
      onRebuilt: () => this.rebuilds.inc(),
      onState: (state) => {
        for (const s of SYNC_STATES) this.syncState.set({ state: s }, s === state ? 1 : 0);
      },
      onWriteFenced: (kind) => this.writes.inc({ kind, result: 'fenced' }),
    };
  }

  /** Feeds leadership transitions into the metrics. */
  leadershipObserver(): LeadershipObserver {
    return {
      onLeading: () => {
        this.leader.set(1);
        this.leadershipChanges.inc({ role: 'leader' });
      },
      onStandby: () => {
        this.leader.set(0);
        this.leadershipChanges.inc({ role: 'standby' });
      },
    };
  }
}
