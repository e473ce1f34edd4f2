import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Keyspace } from '@knm/contracts';
import { operationsWorkerSettingsFromEnv, type OperationsWorkerSettings } from '@knm/node-ops';
import { ClusterWatcher } from './cluster-watcher.js';
import { loadKubeConfig } from './kube-config.js';
import { ProcessNotifications } from './process-notifications.js';
import {
  closeHealthServer,
  connectProcessRedis,
  startHealthServer,
  type ProcessRedis,
} from './process-shell.js';
import { redactUrl, WatcherConfigError, type WatcherConfig } from './watcher-config.js';
import { WatcherMetrics } from './watcher-metrics.js';

export { loadKubeConfig } from './kube-config.js';

/** The operations worker's settings from the environment; a bad one is a configuration error. */
export function operationsSettings(
  env: Readonly<Record<string, string | undefined>>,
): OperationsWorkerSettings {
  try {
    return operationsWorkerSettingsFromEnv(env);
  } catch (err) {
    throw new WatcherConfigError((err as Error).message);
  }
}

/**
 * One watcher replica of one cluster (`--cluster`), wired: the process's Redis
 * connections, one {@link ClusterWatcher} (reflectors, sync, lease, leader services,
 * operations worker), a small HTTP server for `/healthz`, `/readyz` and `/metrics`;
 * pino logs. Start with {@link WatcherApp.start}; {@link WatcherApp.stop} is the
 * graceful shutdown (stop watching, flush pending writes, release the lease).
 *
 * Log lines tests and operators can wait for: `"msg":"watcher ready"` (leading,
 * state written), `"msg":"watcher standby"`, `"msg":"metrics listening"` (with `port`),
 * `"msg":"usage available"` / `"msg":"usage unavailable"` (with `reason`; once per change).
 */
export class WatcherApp {
  private constructor(
    readonly config: WatcherConfig,
    private readonly logger: Logger,
    private readonly watcher: ClusterWatcher,
    private readonly connections: ProcessRedis,
    private readonly server: Server,
    private readonly notifications: ProcessNotifications | undefined,
  ) {}

  /** The port `/metrics` listens on. */
  get metricsPort(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Wires everything and starts reflecting and competing for the lease. */
  static async start(
    config: WatcherConfig,
    logger: Logger,
    /** Where the process's settings and secrets are read (main passes its copy taken before scrubbing). */
    env: Readonly<Record<string, string | undefined>> = process.env,
  ): Promise<WatcherApp> {
    const cluster = config.cluster;
    if (!cluster) throw new WatcherConfigError('--cluster is required without --pool');
    const kc = loadKubeConfig(config);
    const ops = operationsSettings(env);
    logger.info(
      {
        cluster,
        server: kc.getCurrentCluster()?.server,
        context: kc.getCurrentContext(),
        identity: config.identity,
        redis: redactUrl(config.redisUrl),
      },
      'watcher starting',
    );
    const connections = await connectProcessRedis(config, logger);
    const metrics = new WatcherMetrics();
    const keyspace = new Keyspace(config.redisNamespace);
    const notifications = ProcessNotifications.fromEnv(env, config, connections.redis, keyspace, logger);
    const watcher = new ClusterWatcher({
      cluster,
      kubeConfig: kc,
      settings: config,
      ops,
      redis: connections.redis,
      subscriber: connections.subscriber,
      pubsub: connections.pubsub,
      keyspace,
      metrics,
      logger,
      ...(notifications ? { notifications } : {}),
    });
    const server = await startHealthServer(config, metrics, {
      '/readyz': () => {
        const { sync } = watcher;
        const leading = sync.leading;
        const ready = leading ? sync.serving : true;
        return {
          status: ready ? 200 : 503,
          body: {
            ready,
            role: leading ? 'leader' : 'standby',
            synced: sync.synced,
            status: sync.status.status,
          },
        };
      },
    });
    const app = new WatcherApp(config, logger, watcher, connections, server, notifications);
    logger.info({ port: app.metricsPort, host: config.metricsHost }, 'metrics listening');
    watcher.start();
    return app;
  }

  /** Graceful shutdown: the cluster's watcher (lease released), the HTTP server, Redis. */
  async stop(): Promise<void> {
    this.logger.info('watcher stopping');
    await this.watcher.stop();
    await this.notifications?.close();
    await closeHealthServer(this.server);
    await this.connections.close();
    this.logger.info('watcher stopped');
  }
}
