import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Keyspace } from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';
import { DELIVERY_QUEUE, DeliveryJobDataSchema, type DeliveryJobData } from './delivery-job.js';
import { deliveryBackoffMs } from './delivery-job-options.js';
import { postWebhook, WebhookRefusedError } from './webhook-post.js';
import type { WebhookSinkStore } from './webhook-sink-store.js';

/** Where the worker reports (a pino logger fits). */
export interface DeliveryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Options of {@link WebhookDeliveryWorker}. */
export interface WebhookDeliveryWorkerOptions {
  /** Commands (rate-limit counters). */
  redis: RedisClient;
  /** BullMQ's blocking connection (`createRedisConnection(url, 'bullmq')`), owned by the caller. */
  queueConnection: RedisClient;
  keyspace: Keyspace;
  sinks: WebhookSinkStore;
  /** Messages sent at once by this process. Default 4. */
  concurrency?: number;
  /** A receiver that has not answered after this long has failed this attempt. Default 10,000 ms. */
  timeoutMs?: number;
  logger?: DeliveryLogger;
}

/** What one delivery did. */
export interface DeliveryResult {
  status: number | 'sink removed';
}

/**
 * Sends the delivery queue's messages: one POST per job, with the job id as
 * `X-Knm-Delivery` (the same on every retry, so a receiver can drop a message it
 * already has). A network error, a timeout, a 408, a 429 or a 5xx is retried with
 * backoff (1 s doubling to a minute, about half an hour in all); another 4xx, or a
 * Feishu answer with a non-zero code, will not get better and fails the message
 * at once. Each sink gets at most its `maxPerMinute`; the rest waits for the next
 * minute. The URL is a secret: logs name the sink and its `target`, never the URL.
 *
 * Any number of these may run (in every watcher): BullMQ gives a job to one.
 */
export class WebhookDeliveryWorker {
  private readonly worker: Worker<DeliveryJobData, DeliveryResult>;
  private readonly timeoutMs: number;

  constructor(private readonly options: WebhookDeliveryWorkerOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.worker = new Worker<DeliveryJobData, DeliveryResult>(
      DELIVERY_QUEUE,
      (job, token) => this.deliver(job, token),
      {
        connection: options.queueConnection,
        prefix: options.keyspace.notifyQueuePrefix,
        concurrency: options.concurrency ?? 4,
        settings: { backoffStrategy: (attemptsMade: number) => deliveryBackoffMs(attemptsMade) },
      },
    );
    this.worker.on('error', (err) => options.logger?.warn({ err: err.message }, 'notification worker error'));
    this.worker.on('failed', (job, err) => {
      if (!job || err instanceof DelayedError) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
      options.logger?.warn(
        { delivery: job.id, sink: job.data.sinkId, attempt: job.attemptsMade, final, err: err.message },
        final ? 'notification abandoned' : 'notification failed; will retry',
      );
    });
  }

  /** Resolves once the worker is connected and taking jobs. */
  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  async close(): Promise<void> {
    await this.worker.close();
  }

  private async deliver(
    job: Job<DeliveryJobData, DeliveryResult>,
    token: string | undefined,
  ): Promise<DeliveryResult> {
    const data = DeliveryJobDataSchema.parse(job.data);
    const sink = await this.options.sinks.open(data.sinkId);
    if (!sink) return { status: 'sink removed' };
    const { record } = sink;
    if (!(await this.withinRate(record.id, record.maxPerMinute))) {
      const nextMinute = (Math.floor(Date.now() / 60_000) + 1) * 60_000;
      await job.moveToDelayed(nextMinute + Math.floor(Math.random() * 1_000), token);
      throw new DelayedError();
    }
    let status: number;
    try {
      status = await postWebhook(
        sink,
        { deliveryId: String(job.id), cluster: data.cluster, kind: data.kind, transitions: data.transitions },
        this.timeoutMs,
      );
    } catch (err) {
      if (err instanceof WebhookRefusedError) throw new UnrecoverableError(err.message);
      throw err;
    }
    this.options.logger?.info(
      {
        delivery: job.id,
        sink: record.id,
        name: record.name,
        target: record.target,
        status,
        transitions: data.transitions.length,
      },
      'notification delivered',
    );
    return { status };
  }

  /** Counts this message against the sink's minute; false when the minute is full. */
  private async withinRate(sinkId: string, maxPerMinute: number): Promise<boolean> {
    const key = this.options.keyspace.rateLimit('webhook', `${sinkId}:${Math.floor(Date.now() / 60_000)}`);
    const [[, count] = [null, 0]] =
      (await this.options.redis.multi().incr(key).expire(key, 120).exec()) ?? [];
    return Number(count) <= maxPerMinute;
  }
}
