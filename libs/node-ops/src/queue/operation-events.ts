import { QueueEvents } from 'bullmq';
import { clusterOfOperationId, operationKeys, type ClusterName, type Keyspace } from '@knm/contracts';
import { createRedisConnection, type RedisClient } from '@knm/node-store';

/** Options of {@link OperationEvents}. */
export interface OperationEventsOptions {
  /**
   * Redis URL, standalone or Redis Cluster (`redis+cluster://h1:p1,h2:p2`): each
   * cluster's QueueEvents gets its own blocking connection (BullMQ duplicates a lazy
   * `createRedisConnection(url, 'bullmq')` and closes the duplicate with the listener).
   */
  redisUrl: string;
  keyspace: Keyspace;
  /**
   * Coalescing window: several events of one operation within it are reported once,
   * at its end (an operation on 1,000 nodes is not 1,000 reads per gateway). Default 200 ms.
   */
  coalesceMs?: number;
  /** Called when listening to a cluster fails. */
  onError?: (cluster: ClusterName, err: Error) => void;
}

/**
 * Tells this process when an operation moved (a node finished, the state changed):
 * one BullMQ `QueueEvents` per cluster listened to, reading the queue's events
 * stream. Every process that listens receives every event (streams are read, not
 * consumed), so a gateway relays to its LOCAL sockets only. Events of one operation
 * are coalesced; the listener is called with the operation id and is expected to
 * read the operation's current state (which makes a coalesced or late event harmless).
 */
export class OperationEvents {
  private readonly listeners = new Map<ClusterName, { events: QueueEvents; connection: RedisClient }>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly handlers = new Set<(operationId: string, cluster: ClusterName) => void>();
  private readonly coalesceMs: number;
  private closed = false;

  constructor(private readonly options: OperationEventsOptions) {
    this.coalesceMs = options.coalesceMs ?? 200;
  }

  /** Registers a handler; returns a function that removes it. */
  onChange(handler: (operationId: string, cluster: ClusterName) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** The clusters listened to. */
  get clusters(): ClusterName[] {
    return [...this.listeners.keys()];
  }

  /** Starts listening to `cluster`'s queue (idempotent); resolves once the listener is connected. */
  async listen(cluster: ClusterName): Promise<void> {
    if (this.closed || this.listeners.has(cluster)) return;
    const keys = operationKeys(this.options.keyspace, cluster);
    // A template, never connected itself: BullMQ duplicates it for its blocking reads.
    const connection = createRedisConnection(this.options.redisUrl, 'bullmq', { lazyConnect: true });
    connection.on('error', () => undefined); // reported through the QueueEvents' own 'error'
    const events = new QueueEvents(keys.queueName, { connection, prefix: keys.queuePrefix });
    this.listeners.set(cluster, { events, connection });
    const touched = ({ jobId }: { jobId: string }): void => this.touch(jobId);
    events.on('progress', touched);
    events.on('completed', touched);
    events.on('failed', touched);
    events.on('active', touched);
    events.on('error', (err: Error) => this.options.onError?.(cluster, err));
    await events.waitUntilReady();
  }

  /** Stops every listener and pending timer. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(
      all.map(async ({ events, connection }) => {
        await events.close().catch(() => undefined);
        connection.disconnect();
      }),
    );
  }

  private touch(operationId: string): void {
    if (this.closed || this.timers.has(operationId)) return;
    const cluster = clusterOfOperationId(operationId);
    if (!cluster) return;
    const timer = setTimeout(() => {
      this.timers.delete(operationId);
      for (const handler of this.handlers) {
        try {
          handler(operationId, cluster);
        } catch {
          // A handler's failure must not stop the others.
        }
      }
    }, this.coalesceMs);
    this.timers.set(operationId, timer);
  }
}
