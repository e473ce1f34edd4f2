import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  projectNode,
  type ClusterName,
  type Keyspace,
  type KubeNodeLike,
  type NodeSnapshot,
} from '@knm/contracts';
import {
  ClusterSync,
  HttpListerWatcher,
  KubeHttpClient,
  LeadershipLoop,
  MetricsClient,
  podScan,
  projectPod,
  type ClusterSyncObserver,
  type PodRecord,
} from '@knm/kube-reflector';
import {
  FencedError,
  LeaderLease,
  NodeStoreWriter,
  PodCountUnderflowError,
  type PubSubMode,
  type RedisClient,
} from '@knm/node-store';
import {
  HttpNodeApi,
  Impersonation,
  KubeApiClient,
  OperationsWorker,
  type OperationsWorkerSettings,
} from '@knm/node-ops';
import { LeaderServices } from './leader-services.js';
import type { ProcessNotifications } from './process-notifications.js';
import { termServices } from './term-services.js';
import type { WatcherConfig } from './watcher-config.js';
import type { ClusterMetrics, WatcherMetrics } from './watcher-metrics.js';

/** The settings of one cluster's engine (the watcher's flags, whichever mode runs it). */
export type ClusterWatcherSettings = Pick<
  WatcherConfig,
  | 'redisUrl'
  | 'identity'
  | 'leaseTtlMs'
  | 'coalesceMs'
  | 'heartbeatMs'
  | 'watchTimeoutSeconds'
  | 'watchdogSeconds'
  | 'pageSize'
  | 'initialSync'
  | 'metricsIntervalMs'
  | 'historyDays'
  | 'flapTransitions'
  | 'flapWindowSeconds'
>;

/** What a {@link ClusterWatcher} is built from; the Redis connections belong to the process. */
export interface ClusterWatcherDeps {
  cluster: ClusterName;
  kubeConfig: KubeConfig;
  settings: ClusterWatcherSettings;
  ops: OperationsWorkerSettings;
  /** The process's commands connection. */
  redis: RedisClient;
  /** The process's subscriber connection (pod-list requests arrive on it while leading). */
  subscriber: RedisClient;
  pubsub: PubSubMode;
  keyspace: Keyspace;
  metrics: WatcherMetrics;
  /** A logger whose lines carry `cluster`. */
  logger: Logger;
  /** The process's incident notifications (absent without KNM_SECRETS_KEY). */
  notifications?: ProcessNotifications;
}

/** What `/pool` and `/readyz` say of one cluster. */
export interface ClusterWatcherState {
  cluster: ClusterName;
  /** `leader`, `standby` (competing for the lease) or `warm` (reflecting, not competing). */
  role: 'leader' | 'standby' | 'warm';
  synced: boolean;
  /** The sync engine's state (`serving` once the leader's state is in Redis). */
  state: string;
  /** The cluster status the leader reports (`ready`, `degraded`, ...). */
  status: string;
}

/**
 * One cluster, wired: kubeconfig -> reflectors -> {@link ClusterSync} -> node-store
 * writer fenced by a {@link LeaderLease}; while leading, the usage poller and the
 * answers to the gateways' node pod requests; the cluster's node-operations worker.
 * Independent of every other cluster of the process: its API's failures and backoff
 * are its own. {@link start} reflects and competes for the lease; `{ lead: false }`
 * only reflects (a pool's warm standby) until {@link lead}; {@link stop} is graceful
 * (stop watching, flush pending writes, release the lease).
 */
export class ClusterWatcher {
  private readonly loop: LeadershipLoop;
  private readonly lease: LeaderLease;
  private readonly leaderServices: LeaderServices;
  private readonly clusterMetrics: ClusterMetrics;
  private operations: Promise<OperationsWorker | undefined> | undefined;
  private competing = false;
  private stopped = false;

  readonly sync: ClusterSync;
  /** The API server's URL. */
  readonly server: string;

  constructor(private readonly deps: ClusterWatcherDeps) {
    const { cluster, settings, redis, keyspace, pubsub, logger } = deps;
    const client = new KubeHttpClient(deps.kubeConfig);
    this.server = client.server;
    const nodes = new HttpListerWatcher<NodeSnapshot>(client, {
      resource: 'nodes',
      path: '/api/v1/nodes',
      project: (raw) => projectNode((raw ?? {}) as KubeNodeLike),
    });
    const pods = new HttpListerWatcher<PodRecord>(client, {
      resource: 'pods',
      path: '/api/v1/pods',
      project: projectPod,
      scan: podScan(),
    });
    const holder: { sync?: ClusterSync } = {};
    const metrics = deps.metrics.forCluster(cluster, () => holder.sync);
    this.clusterMetrics = metrics;
    const reflectorOptions: NonNullable<ConstructorParameters<typeof ClusterSync>[0]['reflector']> = {
      pageSize: settings.pageSize,
      initialSync: settings.initialSync,
      watchdogMs: settings.watchdogSeconds * 1000,
    };
    const watchTimeout = settings.watchTimeoutSeconds;
    if (watchTimeout !== undefined) reflectorOptions.watchTimeoutSeconds = () => watchTimeout;
    const sync = new ClusterSync({
      nodes,
      pods,
      reflector: reflectorOptions,
      coalesceMs: settings.coalesceMs,
      heartbeatMs: settings.heartbeatMs,
      isFenced: (err) => err instanceof FencedError,
      observer: combine(metrics.syncObserver(), logObserver(logger)),
    });
    holder.sync = sync;
    this.sync = sync;

    this.lease = new LeaderLease(redis, keyspace, cluster, settings.identity, {
      ttlMs: settings.leaseTtlMs,
      onError: (err) => logger.debug({ err: err.message }, 'lease attempt failed'),
    });
    this.leaderServices = new LeaderServices(
      termServices({
        cluster,
        keyspace,
        pubsub,
        subscriber: deps.subscriber,
        client,
        metricsApi: new MetricsClient(client),
        metricsIntervalMs: settings.metricsIntervalMs,
        sync,
        metrics,
        logger,
        ...(deps.notifications
          ? { notifications: () => (deps.notifications as ProcessNotifications).dispatcher(cluster, logger) }
          : {}),
      }),
      (err) => logger.warn({ err: err.message }, 'leader service failed'),
    );
    let termWriter: NodeStoreWriter | undefined;
    const leadershipMetrics = metrics.leadershipObserver();
    this.loop = new LeadershipLoop({
      lease: this.lease,
      sync,
      createWriter: (epoch) =>
        (termWriter = new NodeStoreWriter(redis, keyspace, cluster, epoch, settings.identity, {
          pubsub,
          historyDays: settings.historyDays,
          flapRule: { transitions: settings.flapTransitions, windowMs: settings.flapWindowSeconds * 1000 },
        })),
      beforeLead: async (writer) => {
        await (writer as NodeStoreWriter).register({ server: client.server });
      },
      observer: {
        onLeading: (epoch) => {
          leadershipMetrics.onLeading?.(epoch);
          logger.info({ epoch }, 'leading');
          if (termWriter) this.leaderServices.lead(termWriter);
        },
        onStandby: (reason) => {
          leadershipMetrics.onStandby?.(reason);
          void this.leaderServices.standBy();
          logger.info({ reason }, 'watcher standby');
        },
        onError: (err) => logger.warn({ err: err.message }, 'leadership term failed'),
      },
    });
  }

  /** Starts reflecting; with `lead` (the default) also competes for the lease and runs the operations worker. */
  start(options: { lead?: boolean } = {}): void {
    this.sync.start();
    if (options.lead ?? true) this.lead();
  }

  /** Competes for the lease from now on, and starts the operations worker (a warm standby promoted). Idempotent. */
  lead(): void {
    if (this.competing || this.stopped) return;
    this.competing = true;
    this.operations = this.startOperations();
    this.loop.start();
  }

  /** Whether it competes for the lease (false: a warm standby). */
  get leads(): boolean {
    return this.competing;
  }

  state(): ClusterWatcherState {
    const leading = this.sync.leading;
    return {
      cluster: this.deps.cluster,
      role: leading ? 'leader' : this.competing ? 'standby' : 'warm',
      synced: this.sync.synced,
      state: this.sync.state,
      status: this.sync.status.status,
    };
  }

  /**
   * Graceful: stop the operations worker and competing for the lease, stop the
   * leader-only services, stop watching, write the pending coalesced pod deltas,
   * release the lease (another replica or pool member takes over at its next poll).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Forced: a running operation stays locked and is finished by the next worker (its done nodes are skipped).
    await (await this.operations)?.close(true).catch(() => undefined);
    await this.loop.stop();
    await this.leaderServices.standBy();
    await this.sync.stop();
    await this.lease.release().catch((err: unknown) => {
      this.deps.logger.warn({ err: (err as Error).message }, 'could not release the lease');
    });
    this.clusterMetrics.close();
  }

  /** Started in the background: Redis being down must not hold the cluster's start-up. */
  private startOperations(): Promise<OperationsWorker | undefined> {
    const { ops, cluster, keyspace, logger, settings } = this.deps;
    if (!ops.enabled) return Promise.resolve(undefined);
    // Operations as the person (KNM_OPS_IMPERSONATE): the client adds the headers, the runner says who.
    const impersonation = ops.impersonate ? new Impersonation() : undefined;
    return OperationsWorker.start({
      redisUrl: settings.redisUrl,
      keyspace,
      cluster,
      api: new HttpNodeApi(new KubeApiClient(this.deps.kubeConfig, impersonation ? { impersonation } : {})),
      ...(impersonation ? { impersonation } : {}),
      concurrency: ops.concurrency,
      clusterConcurrency: ops.clusterConcurrency,
      nodeConcurrency: ops.nodeConcurrency,
      lockDurationMs: ops.lockDurationMs,
      stalledIntervalMs: ops.stalledIntervalMs,
      audit: { maxLen: ops.auditMaxLen, retentionMs: ops.auditRetentionDays * 86_400_000 },
      store: { historyDays: settings.historyDays },
      logger,
    }).then(
      (worker) => {
        logger.info({ queue: keyspace.cluster(cluster).queuePrefix }, 'operations worker ready');
        return worker;
      },
      (err: unknown) => {
        logger.error({ err: (err as Error).message }, 'operations worker failed to start');
        return undefined;
      },
    );
  }
}

/** Log lines for the engine's notable events (not per event: those are metrics). */
function logObserver(logger: Logger): ClusterSyncObserver {
  let servedThisTerm = false;
  return {
    onListed: (resource, info) => logger.info({ resource, ...info }, 'listed'),
    onExpired: (resource) => logger.info({ resource }, 'resource version expired (410): relisting'),
    onError: (resource, error, retryInMs) =>
      logger.warn({ resource, err: error.message, error: error.name, retryInMs }, 'watch failed'),
    onHealth: (resource, healthy, error) =>
      healthy
        ? logger.info({ resource }, 'API reachable')
        : logger.debug({ resource, err: error?.message }, 'API request failed'),
    onStatus: (status, error) => logger.info({ status, error }, 'cluster status'),
    onState: (state) => {
      if (state === 'reconciling') servedThisTerm = false;
      if (state === 'repairing')
        logger.warn({ state }, 'redis state unknown after a failed write; repairing');
      if (state !== 'serving') return;
      // The first time a term serves, it is ready; later it recovered from a failed write.
      logger.info({ state }, servedThisTerm ? 'state repaired' : 'watcher ready');
      servedThisTerm = true;
    },
    onReconciled: (info) => logger.info(info, 'reconciled'),
    onRebuilt: (info) => logger.warn(info, 'state rebuilt: redis held no state of this life (resync)'),
    onWriteError: (kind, error) => {
      if (kind === 'heartbeat') logger.warn({ kind, err: error.message }, 'heartbeat failed');
      else if (error instanceof PodCountUnderflowError)
        logger.error(
          { kind, nodes: error.nodes, seq: error.seq, err: error.message },
          'pod counts in redis disagreed with the pod index; rewriting them (repair scheduled)',
        );
      else logger.warn({ kind, err: error.message }, 'redis call failed; repair scheduled');
    },
    onFenced: (error) => logger.warn({ err: error.message }, 'fenced: another watcher leads; standing by'),
  };
}

/** One observer that calls each of `observers` in turn. */
function combine(...observers: ClusterSyncObserver[]): ClusterSyncObserver {
  const out: Record<string, (...args: unknown[]) => void> = {};
  const keys = new Set(observers.flatMap((o) => Object.keys(o)));
  for (const key of keys) {
    out[key] = (...args: unknown[]) => {
      for (const o of observers) {
        const fn = (o as Record<string, ((...a: unknown[]) => void) | undefined>)[key];
        try {
          fn?.(...args);
        } catch {
          // Observers must not break the engine.
        }
      }
    };
  }
  return out as ClusterSyncObserver;
}
