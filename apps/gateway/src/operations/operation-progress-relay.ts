import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { isFinalOperationState, OPERATION_PROGRESS_EVENT } from '@knm/contracts';
import type { NodeStoreReader, RedisClient } from '@knm/node-store';
import type { OperationEvents, OperationQueues, OperationStore } from '@knm/node-ops';
import { LOGGER, NODE_STORE_READER } from '../common/injection-tokens.js';
import { clusterRoom } from '../realtime/cluster-feed.js';
import { NodesGateway, userRoom } from '../realtime/nodes.gateway.js';
import {
  OPERATION_EVENTS,
  OPERATION_QUEUES,
  OPERATION_STORE,
  OPERATIONS_REDIS,
} from './operations.tokens.js';

/** How often the relay looks for newly registered clusters to listen to. */
export const CLUSTER_REFRESH_MS = 5_000;
/** Operations whose last pushed progress is remembered (to push each change once). */
const REMEMBERED = 10_000;

/**
 * Pushes `operation_progress` (the whole Operation, read from Redis) to this
 * replica's sockets of the user who started it and of the sockets subscribed to its
 * cluster, each socket once (`to([userRoom, clusterRoom])` unites the rooms), and
 * each change once (the same state, `progress.done` and cancel mark is not pushed again).
 *
 * Why local emits: every gateway reads every cluster's BullMQ events stream
 * (QueueEvents reads, it does not consume), so every replica learns of every
 * change; each pushing to its own sockets reaches every socket exactly once with no
 * adapter traffic, and needs no election of a single emitter (which would have to
 * fail over when that replica dies).
 */
@Injectable()
export class OperationProgressRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: ReturnType<typeof setInterval> | undefined;
  private unsubscribe: (() => void) | undefined;
  /**
   * Operation id -> what was last pushed: BullMQ reports the end twice (progress,
   * completed), and two reads of one operation may finish out of order.
   */
  private readonly lastSent = new Map<
    string,
    { state: string; done: number; final: boolean; cancelling: boolean }
  >();

  constructor(
    @Inject(OPERATION_EVENTS) private readonly events: OperationEvents,
    @Inject(OPERATION_STORE) private readonly store: OperationStore,
    @Inject(OPERATION_QUEUES) private readonly queues: OperationQueues,
    @Inject(OPERATIONS_REDIS) private readonly redis: RedisClient,
    @Inject(NODE_STORE_READER) private readonly reader: NodeStoreReader,
    @Inject(NodesGateway) private readonly gateway: NodesGateway,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = this.events.onChange((id) => void this.relay(id));
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), CLUSTER_REFRESH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.events.close().catch(() => undefined);
    await this.queues.close().catch(() => undefined);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** Listens to every registered cluster's operations queue. */
  private async refresh(): Promise<void> {
    try {
      const clusters = await this.reader.listClusters();
      await Promise.all(clusters.map((c) => this.events.listen(c.name)));
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message },
        'operations: could not refresh the clusters listened to',
      );
    }
  }

  /** Pushes the operation's current form now (a change made by this gateway, such as a cancel). */
  push(id: string): Promise<void> {
    return this.relay(id);
  }

  private async relay(id: string): Promise<void> {
    try {
      const op = await this.store.get(id);
      if (!op) return;
      const last = this.lastSent.get(op.id);
      const final = isFinalOperationState(op.state);
      const cancelling = op.cancelRequestedAt !== undefined;
      if (
        last &&
        (last.final ||
          op.progress.done < last.done ||
          (last.state === op.state && last.done === op.progress.done && last.cancelling === cancelling))
      ) {
        return;
      }
      this.lastSent.delete(op.id);
      this.lastSent.set(op.id, { state: op.state, done: op.progress.done, final, cancelling });
      if (this.lastSent.size > REMEMBERED) {
        const oldest = this.lastSent.keys().next().value;
        if (oldest !== undefined) this.lastSent.delete(oldest);
      }
      this.gateway.namespace.local
        .to([userRoom(op.createdBy), clusterRoom(op.cluster)])
        .emit(OPERATION_PROGRESS_EVENT, op);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, operationId: id }, 'operations: progress relay failed');
    }
  }
}
