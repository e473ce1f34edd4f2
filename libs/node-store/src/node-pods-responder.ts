import {
  NODE_PODS_CACHE_MS,
  NodePodsRequestSchema,
  decodeJson,
  type ClusterName,
  type Keyspace,
  type NodePodsResponse,
} from '@knm/contracts';
import type { RedisClient } from './redis-client.js';
import type { PubSubMode } from './write-scripts.js';

/** Reads one node's pods from the API server; a failure is answered as a 502 (see {@link NodePodsResponder}). */
export type NodePodsFetch = (node: string, signal: AbortSignal) => Promise<NodePodsResponse>;

/** Where the answers go: the term's `NodeStoreWriter` (fenced by its epoch). */
export interface NodePodsStore {
  storeNodePods(response: NodePodsResponse, ttlMs?: number): Promise<void>;
}

/** Options of {@link NodePodsResponder}. */
export interface NodePodsResponderOptions {
  /** SUBSCRIBE (`classic`) or SSUBSCRIBE (`sharded`); must match the gateways' mode. Default `classic`. */
  pubsub?: PubSubMode;
  /** Fetches running at once. Default 4. */
  concurrency?: number;
  /** Nodes waiting for a fetch slot; requests beyond are dropped (the gateway times out). Default 100. */
  maxQueued?: number;
  /** How long an answer is served from Redis. Default NODE_PODS_CACHE_MS. */
  ttlMs?: number;
  /** A fetch threw, an answer could not be stored, or a request was dropped. Default: ignored. */
  onError?: (error: Error, node: string) => void;
  /** A request that is not a NodePodsRequest; it is dropped. Default: ignored. */
  onInvalid?: (raw: string, error: Error) => void;
}

/**
 * The leading watcher's side of "the pods behind a node's numbers": subscribed to the
 * cluster's pods-requests channel while it leads (a standby is not subscribed, so a
 * gateway that finds no subscriber knows nobody answers), it fetches each requested
 * node's pods with `fetch` and stores the answer through `store` (which publishes
 * NodePodsReady). Requests for a node whose fetch is running or queued share it; at
 * most `concurrency` fetches run at once. A fetch that throws is answered with
 * `{ok: false, status: 502}` so waiting gateways learn at once.
 */
export class NodePodsResponder {
  private readonly channel: string;
  private readonly sharded: boolean;
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly ttlMs: number;
  private readonly onError: (error: Error, node: string) => void;
  private readonly onInvalid: (raw: string, error: Error) => void;
  private readonly controller = new AbortController();
  /** Nodes running or queued. */
  private readonly pending = new Set<string>();
  private readonly queue: string[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly handler = (channel: string, message: string): void => {
    if (channel === this.channel) this.receive(message);
  };
  private stopped = false;

  constructor(
    private readonly subscriber: RedisClient,
    keyspace: Keyspace,
    cluster: ClusterName,
    private readonly store: NodePodsStore,
    private readonly fetch: NodePodsFetch,
    options: NodePodsResponderOptions = {},
  ) {
    this.channel = keyspace.cluster(cluster).podsRequests;
    this.sharded = options.pubsub === 'sharded';
    this.concurrency = options.concurrency ?? 4;
    this.maxQueued = options.maxQueued ?? 100;
    this.ttlMs = options.ttlMs ?? NODE_PODS_CACHE_MS;
    this.onError = options.onError ?? (() => undefined);
    this.onInvalid = options.onInvalid ?? (() => undefined);
    if (!Number.isSafeInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${this.concurrency}`);
    }
  }

  /** Subscribes to the requests; resolves once Redis confirmed. */
  async start(): Promise<void> {
    this.subscriber.on(this.sharded ? 'smessage' : 'message', this.handler);
    await (this.sharded ? this.subscriber.ssubscribe(this.channel) : this.subscriber.subscribe(this.channel));
  }

  /** Unsubscribes, aborts the fetches and waits for them; nothing is stored after it resolves. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.subscriber.off(this.sharded ? 'smessage' : 'message', this.handler);
    this.controller.abort(new Error('no longer leading'));
    this.queue.length = 0;
    if (this.subscriber.status === 'ready') {
      await (
        this.sharded ? this.subscriber.sunsubscribe(this.channel) : this.subscriber.unsubscribe(this.channel)
      ).catch(() => undefined);
    }
    await Promise.all(this.running);
  }

  private receive(message: string): void {
    if (this.stopped) return;
    let node: string;
    try {
      node = decodeJson(NodePodsRequestSchema, message, `${this.channel} message`).node;
    } catch (err) {
      this.onInvalid(message, err as Error);
      return;
    }
    if (this.pending.has(node)) return; // shares the fetch running or queued
    if (this.running.size < this.concurrency) this.run(node);
    else if (this.queue.length < this.maxQueued) {
      this.pending.add(node);
      this.queue.push(node);
    } else
      this.onError(new Error(`${this.queue.length} nodes already wait for a fetch: request dropped`), node);
  }

  private run(node: string): void {
    this.pending.add(node);
    const task = this.answer(node).finally(() => {
      this.running.delete(task);
      this.pending.delete(node);
      const next = this.queue.shift();
      if (next !== undefined && !this.stopped) this.run(next);
    });
    this.running.add(task);
  }

  private async answer(node: string): Promise<void> {
    const signal = this.controller.signal;
    let response: NodePodsResponse;
    try {
      response = await this.fetch(node, signal);
    } catch (err) {
      if (signal.aborted) return;
      const error = err instanceof Error ? err : new Error(String(err));
      this.onError(error, node);
      response = {
        ok: false,
        node,
        fetchedAt: new Date().toISOString(),
        status: 502,
        message: `listing the pods of node "${node}" failed: ${error.message}`,
      };
    }
    if (signal.aborted) return;
    try {
      await this.store.storeNodePods(response, this.ttlMs);
    } catch (err) {
      this.onError(err instanceof Error ? err : new Error(String(err)), node);
    }
  }
}
