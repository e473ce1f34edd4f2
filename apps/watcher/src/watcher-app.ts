import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Keyspace, projectNode, type KubeNodeLike, type NodeSnapshot } from '@knm/contracts';
import {
  ClusterSync,
  HttpListerWatcher,
  KubeHttpClient,
  LeadershipLoop,
  MetricsClient,
  projectPod,
  type ClusterSyncObserver,
  type PodRecord,
} from '@knm/kube-reflector';
import {
  createRedisConnection,
  FencedError,
  LeaderLease,
  NodeStoreWriter,
  PodCountUnderflowError,
  redisPubSubMode,
  type RedisClient,
} from '@knm/node-store';
import {
  HttpNodeApi,
  Impersonation,
  KubeApiClient,
  OperationsWorker,
  operationsWorkerSettingsFromEnv,
  type OperationsWorkerSettings,
} from '@knm/node-ops';
import { LeaderServices } from './leader-services.js';
import { termServices } from './term-services.js';
import { redactUrl, WatcherConfigError, type WatcherConfig } from './watcher-config.js';
import { WatcherMetrics } from './watcher-metrics.js';

/** Loads the kubeconfig the configuration names (or client-node's default chain) and selects the context. */
export function loadKubeConfig(config: Pick<WatcherConfig, 'kubeconfig' | 'context'>): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (config.kubeconfig && !config.kubeconfig.includes(delimiter)) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromDefault(); // KUBECONFIG list, ~/.kube/config, or the in-cluster service account
  } catch (err) {
    throw new WatcherConfigError(
      `cannot read the kubeconfig${config.kubeconfig ? ` "${config.kubeconfig}"` : ''}: ${(err as Error).message}`,
    );
  }
  if (config.context) {
    if (!kc.getContextObject(config.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new WatcherConfigError(
        `--context "${config.context}" is not in the kubeconfig (contexts: ${known.join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(config.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new WatcherConfigError(
      `the kubeconfig's context "${kc.getCurrentContext()}" names no cluster with a server; pass --kubeconfig or --context`,
    );
  }
  return kc;
}

/**
 * One watcher replica, wired: kubeconfig -> reflectors -> {@link ClusterSync} ->
 * node-store writer fenced by a {@link LeaderLease}; while leading, also the usage
 * poller (metrics.k8s.io, one snapshot per `--metrics-interval`) and the answers to
 * the gateways' requests for a node's pods; a small HTTP server for `/healthz`,
 * `/readyz` and `/metrics`; pino logs. Start with
 * {@link WatcherApp.start}; {@link WatcherApp.stop} is the graceful shutdown
 * (stop watching, flush pending writes, release the lease).
 *
 * Log lines tests and operators can wait for: `"msg":"watcher ready"` (leading,
 * state written), `"msg":"watcher standby"`, `"msg":"metrics listening"` (with `port`),
 * `"msg":"usage available"` / `"msg":"usage unavailable"` (with `reason`; once per change).
 */
export class WatcherApp {
  private constructor(
    readonly config: WatcherConfig,
    private readonly logger: Logger,
    readonly sync: ClusterSync,
    private readonly loop: LeadershipLoop,
    private readonly lease: LeaderLease,
    private readonly redis: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly leaderServices: LeaderServices,
    private readonly server: Server,
    /** This cluster's node-operations worker (it needs the cluster's credentials, which this process holds). */
    private readonly operations: Promise<OperationsWorker | undefined>,
  ) {}

  /** The port `/metrics` listens on. */
  get metricsPort(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Wires everything and starts reflecting and competing for the lease. */
  static async start(config: WatcherConfig, logger: Logger): Promise<WatcherApp> {
    const kc = loadKubeConfig(config);
    let ops: OperationsWorkerSettings;
    try {
      ops = operationsWorkerSettingsFromEnv(process.env);
    } catch (err) {
      throw new WatcherConfigError((err as Error).message);
    }
    const client = new KubeHttpClient(kc);
    logger.info(
      {
        cluster: config.cluster,
        server: client.server,
        context: kc.getCurrentContext(),
        identity: config.identity,
        redis: redactUrl(config.redisUrl),
      },
      'watcher starting',
    );
    const nodes = new HttpListerWatcher<NodeSnapshot>(client, {
      resource: 'nodes',
      path: '/api/v1/nodes',
      project: (raw) => projectNode((raw ?? {}) as KubeNodeLike),
    });
    const pods = new HttpListerWatcher<PodRecord>(client, {
      resource: 'pods',
      path: '/api/v1/pods',
      project: projectPod,
    });

    // Standalone or Redis Cluster, from the one URL; the change feed's pub/sub mode comes from it too.
    const redis = createRedisConnection(config.redisUrl, 'commands', { maxRetriesPerRequest: 3 });
    const pubsub = redisPubSubMode(config.redisUrl);
    let redisDown = false;
    redis.on('error', (err: Error) => {
      if (!redisDown)
        logger.warn({ err: err.message, redis: redactUrl(config.redisUrl) }, 'redis unreachable');
      redisDown = true;
    });
    redis.on('ready', () => {
      if (redisDown) logger.info('redis reachable again');
      redisDown = false;
    });
    try {
      await firstRedisAttempt(redis);
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    const keyspace = new Keyspace(config.redisNamespace);

    const holder: { sync?: ClusterSync } = {};
    const metrics = new WatcherMetrics(() => holder.sync);
    const reflectorOptions: NonNullable<ConstructorParameters<typeof ClusterSync>[0]['reflector']> = {
      pageSize: config.pageSize,
      initialSync: config.initialSync,
      watchdogMs: config.watchdogSeconds * 1000,
    };
    const watchTimeout = config.watchTimeoutSeconds;
    if (watchTimeout !== undefined) reflectorOptions.watchTimeoutSeconds = () => watchTimeout;
    const sync = new ClusterSync({
      nodes,
      pods,
      reflector: reflectorOptions,
      coalesceMs: config.coalesceMs,
      heartbeatMs: config.heartbeatMs,
      isFenced: (err) => err instanceof FencedError,
      observer: combine(metrics.syncObserver(), logObserver(logger)),
    });
    holder.sync = sync;

    const lease = new LeaderLease(redis, keyspace, config.cluster, config.identity, {
      ttlMs: config.leaseTtlMs,
      onError: (err) => logger.debug({ err: err.message }, 'lease attempt failed'),
    });
    // Pod-list requests arrive on their own connection (subscriber mode), only while leading.
    const subscriber = createRedisConnection(config.redisUrl, 'subscriber');
    subscriber.on('error', () => undefined); // reported by the commands connection's handler
    const leaderServices = new LeaderServices(
      termServices({
        cluster: config.cluster,
        keyspace,
        pubsub,
        subscriber,
        client,
        metricsApi: new MetricsClient(client),
        metricsIntervalMs: config.metricsIntervalMs,
        sync,
        metrics,
        logger,
      }),
      (err) => logger.warn({ err: err.message }, 'leader service failed'),
    );
    let termWriter: NodeStoreWriter | undefined;
    const leadershipMetrics = metrics.leadershipObserver();
    const loop = new LeadershipLoop({
      lease,
      sync,
      createWriter: (epoch) =>
        (termWriter = new NodeStoreWriter(redis, keyspace, config.cluster, epoch, config.identity, {
          pubsub,
          historyDays: config.historyDays,
          flapRule: { transitions: config.flapTransitions, windowMs: config.flapWindowSeconds * 1000 },
        })),
      beforeLead: async (writer) => {
        await (writer as NodeStoreWriter).register({ server: client.server });
      },
      observer: {
        onLeading: (epoch) => {
          leadershipMetrics.onLeading?.(epoch);
          logger.info({ epoch }, 'leading');
          if (termWriter) leaderServices.lead(termWriter);
        },
        onStandby: (reason) => {
          leadershipMetrics.onStandby?.(reason);
          void leaderServices.standBy();
          logger.info({ reason }, 'watcher standby');
        },
        onError: (err) => logger.warn({ err: err.message }, 'leadership term failed'),
      },
    });

    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const leading = sync.leading;
        const ready = leading ? sync.serving : true;
        const body = JSON.stringify({
          ready,
          role: leading ? 'leader' : 'standby',
          synced: sync.synced,
          status: sync.status.status,
        });
        res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${body}\n`);
      } else if (path === '/metrics') {
        metrics.registry
          .metrics()
          .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
          .catch((err: unknown) => res.writeHead(500).end(String(err)));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.metricsPort, config.metricsHost, () => resolve());
    });
    // Started in the background: Redis being down must not hold the watcher's start-up.
    // Operations as the person (KNM_OPS_IMPERSONATE): the client adds the headers, the runner says who.
    const impersonation = ops.impersonate ? new Impersonation() : undefined;
    const operations = ops.enabled
      ? OperationsWorker.start({
          redisUrl: config.redisUrl,
          keyspace,
          cluster: config.cluster,
          api: new HttpNodeApi(new KubeApiClient(kc, impersonation ? { impersonation } : {})),
          ...(impersonation ? { impersonation } : {}),
          concurrency: ops.concurrency,
          clusterConcurrency: ops.clusterConcurrency,
          nodeConcurrency: ops.nodeConcurrency,
          lockDurationMs: ops.lockDurationMs,
          stalledIntervalMs: ops.stalledIntervalMs,
          audit: { maxLen: ops.auditMaxLen, retentionMs: ops.auditRetentionDays * 86_400_000 },
          store: { historyDays: config.historyDays },
          logger,
        }).then(
          (worker) => {
            logger.info({ queue: keyspace.cluster(config.cluster).queuePrefix }, 'operations worker ready');
            return worker;
          },
          (err: unknown) => {
            logger.error({ err: (err as Error).message }, 'operations worker failed to start');
            return undefined;
          },
        )
      : Promise.resolve(undefined);
    const app = new WatcherApp(
      config,
      logger,
      sync,
      loop,
      lease,
      redis,
      subscriber,
      leaderServices,
      server,
      operations,
    );
    logger.info({ port: app.metricsPort, host: config.metricsHost }, 'metrics listening');
    sync.start();
    loop.start();
    return app;
  }

  /**
   * Graceful shutdown: stop competing for the lease, stop the leader-only services,
   * stop watching, write the pending coalesced pod deltas, release the lease (a standby takes over at its
   * next poll), close the HTTP server and Redis.
   */
  async stop(): Promise<void> {
    this.logger.info('watcher stopping');
    // Forced: a running operation stays locked and is finished by the next worker (its done nodes are skipped).
    await (await this.operations)?.close(true).catch(() => undefined);
    await this.loop.stop();
    await this.leaderServices.standBy();
    await this.sync.stop();
    await this.lease.release().catch((err: unknown) => {
      this.logger.warn({ err: (err as Error).message }, 'could not release the lease');
    });
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
    await this.redis.quit().catch(() => this.redis.disconnect());
    this.logger.info('watcher stopped');
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

/**
 * Waits for the first connection attempt's outcome: rejects with a
 * {@link WatcherConfigError} when Redis refuses the URL's credentials (WRONGPASS,
 * NOAUTH), a configuration error that retrying cannot fix; resolves when it is ready
 * or fails otherwise (Redis down: the connection retries in the background as usual).
 */
function firstRedisAttempt(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      redis.off('ready', onReady);
      redis.off('error', onError);
    };
    const onReady = (): void => {
      done();
      resolve();
    };
    const onError = (err: Error): void => {
      done();
      if (/^(WRONGPASS|NOAUTH)|invalid (username-)?password/i.test(err.message)) {
        reject(
          new WatcherConfigError(
            `Redis refused the credentials of the Redis URL (${err.message.split('\n')[0]}): fix the password in --redis / REDIS_URL`,
          ),
        );
      } else resolve();
    };
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}
