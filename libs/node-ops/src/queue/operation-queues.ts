import { Queue } from 'bullmq';
import { operationKeys, type ClusterName, type Keyspace, type Operation } from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';

/** The data of an operation's BullMQ job: only its id (the operation lives in the {@link OperationStore}). */
export interface OperationJobData {
  operationId: string;
}

/** Options of {@link OperationQueues}. */
export interface OperationQueuesOptions {
  /** Whole-job attempts (a job fails as a whole only when Redis or the worker breaks). Default 5. */
  attempts?: number;
  /** Finished jobs kept in BullMQ (the operation itself stays in the store). Default 1,000 / 1 day. */
  keepFinished?: { count: number; age: number };
}

/**
 * The producer side: one BullMQ queue per cluster, prefix `knm:{<cluster>}`
 * (Redis-Cluster-safe: every key of the queue shares the cluster's slot), name `ops`.
 * The job id is the operation id, so enqueueing the same operation twice adds one job.
 * Used by the gateway, which never processes jobs.
 */
export class OperationQueues {
  private readonly queues = new Map<ClusterName, Queue<OperationJobData>>();

  constructor(
    private readonly connection: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly options: OperationQueuesOptions = {},
  ) {}

  /** The cluster's queue (created on first use). */
  queue(cluster: ClusterName): Queue<OperationJobData> {
    let queue = this.queues.get(cluster);
    if (!queue) {
      const keys = operationKeys(this.keyspace, cluster);
      queue = new Queue<OperationJobData>(keys.queueName, {
        connection: this.connection,
        prefix: keys.queuePrefix,
      });
      this.queues.set(cluster, queue);
    }
    return queue;
  }

  /** Adds the operation's job. */
  async enqueue(op: Operation): Promise<void> {
    const keep = this.options.keepFinished ?? { count: 1_000, age: 86_400 };
    await this.queue(op.cluster).add(
      op.action,
      { operationId: op.id },
      {
        jobId: op.id,
        attempts: this.options.attempts ?? 5,
        backoff: { type: 'exponential', delay: 2_000 },
        removeOnComplete: keep,
        removeOnFail: keep,
      },
    );
  }

  /** Closes every queue (not the shared connection). */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
