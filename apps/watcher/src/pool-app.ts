import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Keyspace } from '@knm/contracts';
import { ClusterConnectionStore } from '@knm/cluster-connections';
import { createRedisConnection, type RedisClient } from '@knm/node-store';
import { SecretBox, SecretsKeyError } from '@knm/secrets';
import { ProcessNotifications } from './process-notifications.js';
import { PoolMembership } from './pool/pool-membership.js';
import { WatcherPool } from './pool/watcher-pool.js';
import {
  closeHealthServer,
  connectProcessRedis,
  startHealthServer,
  type ProcessRedis,
} from './process-shell.js';
import { redactUrl, WatcherConfigError, type WatcherConfig } from './watcher-config.js';
import { operationsSettings } from './watcher-app.js';
import { WatcherMetrics } from './watcher-metrics.js';

/**
 * A watcher pool member (`--pool`), wired: the process's Redis connections (shared by
 * its clusters), the registry (`knm:connections`, opened with KNM_SECRETS_KEY), a
 * {@link WatcherPool} and the HTTP server: `/healthz`, `/readyz` (ready while a
 * member of the pool), `/pool` (its share and each cluster's state) and `/metrics`
 * (every cluster's series, labelled by `cluster`; `knm_pool_clusters{member,role}`).
 *
 * Log lines: `"msg":"metrics listening"` (with `port`), `"msg":"pool share"`,
 * `"msg":"pool members"`, and each cluster's lines with `cluster`.
 */
export class WatcherPoolApp {
  private constructor(
    private readonly logger: Logger,
    private readonly pool: WatcherPool,
    private readonly connections: ProcessRedis,
    private readonly changes: RedisClient,
    private readonly server: Server,
    private readonly notifications: ProcessNotifications | undefined,
  ) {}

  /** The port `/metrics` listens on. */
  get metricsPort(): number {
    return (this.server.address() as AddressInfo).port;
  }

  static async start(
    config: WatcherConfig,
    logger: Logger,
    /** Where the process's settings and secrets are read (main passes its copy taken before scrubbing). */
    env: Readonly<Record<string, string | undefined>> = process.env,
  ): Promise<WatcherPoolApp> {
    const pool = config.pool;
    if (!pool) throw new WatcherConfigError('--pool is required for a pool member');
    let box: SecretBox;
    try {
      box = SecretBox.fromEnv(env);
    } catch (err) {
      if (err instanceof SecretsKeyError) {
        throw new WatcherConfigError(
          `--pool reads the cluster registry, whose credentials are sealed: ${err.message}`,
        );
      }
      throw err;
    }
    const ops = operationsSettings(env);
    logger.info(
      {
        member: config.identity,
        standby: pool.standby,
        redis: redactUrl(config.redisUrl),
        key: box.currentKeyId,
      },
      'watcher pool member starting',
    );
    const connections = await connectProcessRedis(config, logger);
    const keyspace = new Keyspace(config.redisNamespace);
    const metrics = new WatcherMetrics();
    const notifications = ProcessNotifications.fromEnv(env, config, connections.redis, keyspace, logger);
    // The registry's changes are classic pub/sub (even on Redis Cluster): a connection of their own.
    const changes = createRedisConnection(config.redisUrl, 'subscriber');
    changes.on('error', () => undefined); // reported by the commands connection's handler
    const watcherPool = new WatcherPool({
      pool,
      settings: config,
      ops,
      membership: new PoolMembership(connections.redis, keyspace, config.identity, config.leaseTtlMs),
      store: new ClusterConnectionStore(connections.redis, keyspace, box),
      connections,
      changes,
      keyspace,
      metrics,
      logger,
      ...(notifications ? { notifications } : {}),
    });
    const server = await startHealthServer(config, metrics, {
      '/readyz': () => {
        const ready = watcherPool.ready;
        const state = watcherPool.state();
        return {
          status: ready ? 200 : 503,
          body: {
            ready,
            role: 'pool',
            member: state.member,
            members: state.members.length,
            clusters: state.clusters.length,
          },
        };
      },
      '/pool': () => ({ status: 200, body: watcherPool.state() }),
    });
    const app = new WatcherPoolApp(logger, watcherPool, connections, changes, server, notifications);
    logger.info({ port: app.metricsPort, host: config.metricsHost }, 'metrics listening');
    await watcherPool.start();
    return app;
  }

  /** Graceful shutdown: leave the pool, stop every cluster (leases released), the HTTP server, Redis. */
  async stop(): Promise<void> {
    this.logger.info('watcher pool member stopping');
    await this.pool.stop();
    await this.notifications?.close();
    await closeHealthServer(this.server);
    await this.changes.quit().catch(() => this.changes.disconnect());
    await this.connections.close();
    this.logger.info('watcher stopped');
  }
}
