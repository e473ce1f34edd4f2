import { Queue, Worker, type Job } from 'bullmq';
import { operationKeys, type ClusterName, type Keyspace } from '@knm/contracts';
import { createRedisConnection, type RedisClient } from '@knm/node-store';
import type { NodeApi } from '../kube/node-api.js';
import { OperationRunner, type RunProgress } from '../operation-runner.js';
import { NodeStepRunner, type NodeStepRunnerOptions } from '../steps/node-step-runner.js';
import type { Impersonation } from '../kube/impersonation.js';
import { AuditLog, type AuditLogOptions } from '../store/audit-log.js';
import { OperationStore, type OperationStoreOptions } from '../store/operation-store.js';
import type { OperationJobData } from './operation-queues.js';

/** Where the worker reports (a pino logger fits). */
export interface OperationsWorkerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Options of {@link OperationsWorker}. */
export interface OperationsWorkerOptions {
  /**
   * Redis URL, standalone (`redis://`, `rediss://`) or Redis Cluster
   * (`redis+cluster://h1:p1,h2:p2`); the worker opens its own connections
   * (`createRedisConnection(url, 'bullmq')`).
   */
  redisUrl: string;
  keyspace: Keyspace;
  cluster: ClusterName;
  /** The cluster's API (its credentials). */
  api: NodeApi;
  /**
   * When the cluster impersonates operators: the one the `api`'s client was given, so
   * each operation's calls act as its creator. Default none.
   */
  impersonation?: Impersonation;
  /** Operations this process runs at once. Default 2. */
  concurrency?: number;
  /** Operations of the cluster running at once across every worker (BullMQ global concurrency). Default 2. */
  clusterConcurrency?: number;
  /** Nodes of one operation worked on at once. Default 5. */
  nodeConcurrency?: number;
  /** BullMQ job lock: how long a dead worker's job stays locked. Default 30,000 ms. */
  lockDurationMs?: number;
  /** How often stalled jobs (of dead workers) are looked for. Default 15,000 ms. */
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) before it fails. Default 10. */
  maxStalledCount?: number;
  steps?: NodeStepRunnerOptions;
  store?: OperationStoreOptions;
  audit?: AuditLogOptions;
  logger?: OperationsWorkerLogger;
}

/**
 * The consumer side, hosted by the process that holds a cluster's credentials (the
 * watcher): a BullMQ worker on the cluster's `ops` queue that runs each job's
 * operation with an {@link OperationRunner} and reports progress through
 * `job.updateProgress` (which every gateway receives as a QueueEvents `progress`).
 * Any number of workers may run for one cluster: a job is locked by one; a job
 * whose worker died is picked up again after `lockDurationMs` and the runner skips
 * the nodes already done.
 */
export class OperationsWorker {
  private constructor(
    private readonly worker: Worker<OperationJobData>,
    private readonly connection: RedisClient,
  ) {}

  /** Starts consuming. */
  static async start(options: OperationsWorkerOptions): Promise<OperationsWorker> {
    const keys = operationKeys(options.keyspace, options.cluster);
    const connection = createRedisConnection(options.redisUrl, 'bullmq');
    const store = new OperationStore(connection, options.keyspace, options.store);
    const audit = new AuditLog(connection, options.keyspace, options.audit);
    const runner = new OperationRunner(store, audit, new NodeStepRunner(options.api, options.steps), {
      nodeConcurrency: options.nodeConcurrency ?? 5,
      ...(options.impersonation ? { impersonation: options.impersonation } : {}),
    });
    const queue = new Queue(keys.queueName, { connection, prefix: keys.queuePrefix });
    // Unheard, BullMQ prints the error whole, with the command's arguments (AUTH and its password).
    queue.on('error', (err) => options.logger?.warn({ err: err.message }, 'operations queue error'));
    await queue.setGlobalConcurrency(options.clusterConcurrency ?? 2);
    await queue.close();
    const logger = options.logger;
    // A job this process already runs (handed out again after a missed lock renewal) joins that run.
    const inflight = new Map<string, Promise<string>>();
    const worker = new Worker<OperationJobData>(
      keys.queueName,
      async (job: Job<OperationJobData>) => {
        const id = job.data.operationId;
        let run = inflight.get(id);
        if (!run) {
          logger?.info({ operationId: id, action: job.name, attempt: job.attemptsMade }, 'operation started');
          run = runner
            .run(id, (progress: RunProgress) => job.updateProgress({ ...progress }))
            .then((op) => op?.state ?? 'expired')
            .finally(() => inflight.delete(id));
          inflight.set(id, run);
        }
        const state = await run;
        logger?.info({ operationId: id, state }, 'operation finished');
        return { state };
      },
      {
        connection,
        prefix: keys.queuePrefix,
        concurrency: options.concurrency ?? 2,
        lockDuration: options.lockDurationMs ?? 30_000,
        stalledInterval: options.stalledIntervalMs ?? 15_000,
        maxStalledCount: options.maxStalledCount ?? 10,
      },
    );
    worker.on('failed', (job, err) => {
      const id = job?.data.operationId;
      logger?.warn({ operationId: id, err: err.message, attempt: job?.attemptsMade }, 'operation job failed');
      if (job && id && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        runner
          .abandon(id, `gave up after ${job.attemptsMade} attempts: ${err.message}`)
          .catch((e: unknown) => {
            logger?.warn(
              { operationId: id, err: (e as Error).message },
              'could not mark the operation failed',
            );
          });
      }
    });
    worker.on('error', (err) => logger?.warn({ err: err.message }, 'operations worker error'));
    await worker.waitUntilReady();
    return new OperationsWorker(worker, connection);
  }

  /**
   * Stops taking jobs and closes its connections. Waits for running jobs unless
   * `force` (then a running job stays locked until `lockDurationMs` and another
   * worker finishes it, skipping the nodes already done).
   */
  async close(force = false): Promise<void> {
    await this.worker.close(force);
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}
