import type { Logger } from 'pino';
import type { ClusterName, Keyspace } from '@knm/contracts';
import { createRedisConnection, type RedisClient } from '@knm/node-store';
import { NotificationDispatcher, WebhookDeliveryWorker, WebhookSinkStore } from '@knm/notifications';
import { SecretBox, SecretsKeyError } from '@knm/secrets';
import type { LeaderService } from './leader-services.js';
import { WatcherConfigError, type WatcherConfig } from './watcher-config.js';

/**
 * Incident notifications in a watcher process: one webhook delivery worker for the
 * process (any number run across the watchers; BullMQ gives each message to one),
 * and, for each cluster it leads, the dispatcher that hands the cluster's incident
 * outbox to the delivery queue (a leader-only service: one per cluster at a time).
 * Sink URLs are sealed, so this needs `KNM_SECRETS_KEY`; without one,
 * {@link ProcessNotifications.fromEnv} answers undefined and incidents are kept but
 * not notified.
 */
export class ProcessNotifications {
  private constructor(
    private readonly redis: RedisClient,
    private readonly queueConnection: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly sinks: WebhookSinkStore,
    private readonly worker: WebhookDeliveryWorker,
    private readonly groupWindowMs: number,
    private readonly logger: Logger,
  ) {}

  /** Starts the process's delivery worker, or answers undefined (and says why) without a key. */
  static fromEnv(
    env: Readonly<Record<string, string | undefined>>,
    config: Pick<WatcherConfig, 'redisUrl' | 'notifyGroupSeconds'>,
    redis: RedisClient,
    keyspace: Keyspace,
    logger: Logger,
  ): ProcessNotifications | undefined {
    if (!env['KNM_SECRETS_KEY']?.trim()) {
      logger.info(
        'incident notifications off: webhook URLs are sealed with KNM_SECRETS_KEY, which is not set',
      );
      return undefined;
    }
    let box: SecretBox;
    try {
      box = SecretBox.fromEnv(env);
    } catch (err) {
      if (err instanceof SecretsKeyError) throw new WatcherConfigError(err.message);
      throw err;
    }
    const sinks = new WebhookSinkStore(redis, keyspace, box);
    const queueConnection = createRedisConnection(config.redisUrl, 'bullmq');
    queueConnection.on('error', () => undefined); // reported by the commands connection's handler
    const worker = new WebhookDeliveryWorker({ redis, queueConnection, keyspace, sinks, logger });
    logger.info({ groupSeconds: config.notifyGroupSeconds }, 'incident notifications on');
    return new ProcessNotifications(
      redis,
      queueConnection,
      keyspace,
      sinks,
      worker,
      config.notifyGroupSeconds * 1000,
      logger,
    );
  }

  /** The leader-only service that hands `cluster`'s incident outbox to the delivery queue. */
  dispatcher(cluster: ClusterName, logger: Logger): LeaderService {
    const dispatcher = new NotificationDispatcher({
      redis: this.redis,
      queueConnection: this.queueConnection,
      keyspace: this.keyspace,
      cluster,
      sinks: this.sinks,
      groupWindowMs: this.groupWindowMs,
      logger,
    });
    return { start: () => dispatcher.start(), stop: () => dispatcher.stop() };
  }

  async close(): Promise<void> {
    await this.worker.close().catch((err: unknown) => {
      this.logger.warn({ err: (err as Error).message }, 'notification worker did not close cleanly');
    });
    await this.queueConnection.quit().catch(() => this.queueConnection.disconnect());
  }
}
