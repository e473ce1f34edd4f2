import {
  NodePodsReadySchema,
  NodePodsRequestSchema,
  NodePodsResponseSchema,
  decodeJson,
  type ClusterName,
  type Keyspace,
  type NodePodsRequest,
  type NodePodsResponse,
} from '@knm/contracts';
import type { RedisClient } from './redis-client.js';
import type { PubSubMode } from './write-scripts.js';

/** Options of {@link NodePodsClient}. */
export interface NodePodsClientOptions {
  /** PUBLISH/SUBSCRIBE (`classic`) or SPUBLISH/SSUBSCRIBE (`sharded`); must match the watchers'. Default `classic`. */
  pubsub?: PubSubMode;
  /** How long `get` waits for the watcher's answer by default. Default 10,000 ms. */
  timeoutMs?: number;
  /** Source of `fetchedAt` on the answers made here (no leader, timeout). Default `() => new Date()`. */
  clock?: () => Date;
  /** A stored answer or a reply that does not decode; it is treated as absent. Default: ignored. */
  onInvalid?: (subject: string, raw: string, error: Error) => void;
}

/**
 * The gateway's side of "the pods behind a node's numbers": `get` answers from the
 * cache the leading watcher fills (`nodePodsPrefix + node`, a few seconds), else asks
 * the watcher on the cluster's pods-requests channel and waits for its NodePodsReady
 * on pods-replies. Concurrent `get`s of one node in this process share one request.
 *
 * Every outcome is a {@link NodePodsResponse}, ready to serve: the watcher's answer
 * (its own failures are `ok: false` with 404 or 502), or one made here: 503 when no
 * watcher leads the cluster (nobody received the request: a standby does not
 * subscribe), 504 when the answer did not come within the timeout.
 *
 * `subscriber` is a connection in subscriber mode; it may be shared with a
 * `ChangeSubscriber` (each ignores the other's channels). "Nobody received it" is
 * PUBLISH's (SPUBLISH's) receiver count: exact on a standalone Redis and with sharded
 * pub/sub on a Cluster (the mode `redisPubSubMode` derives from a cluster URL);
 * classic PUBLISH on a Cluster counts only the node it ran on, so do not combine them.
 */
export class NodePodsClient {
  private readonly sharded: boolean;
  private readonly timeoutMs: number;
  private readonly clock: () => Date;
  private readonly onInvalid: (subject: string, raw: string, error: Error) => void;
  /** pods-replies channel -> its subscription (resolved once Redis confirmed). */
  private readonly subscriptions = new Map<string, Promise<void>>();
  /** `<replies channel> <node>` -> the waiters of that node's answer. */
  private readonly waiters = new Map<string, Set<() => void>>();
  /** `<cluster> <node>` -> the `get` in progress. */
  private readonly inFlight = new Map<string, Promise<NodePodsResponse>>();
  private readonly handler = (channel: string, message: string): void => this.receive(channel, message);
  private closed = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly keyspace: Keyspace,
    options: NodePodsClientOptions = {},
  ) {
    this.sharded = options.pubsub === 'sharded';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.clock = options.clock ?? (() => new Date());
    this.onInvalid = options.onInvalid ?? (() => undefined);
    subscriber.on(this.sharded ? 'smessage' : 'message', this.handler);
  }

  /**
   * The pods of `node` in `cluster`. RangeError when `node` is not a valid node name
   * (empty, longer than 253).
   */
  get(cluster: ClusterName, node: string, options: { timeoutMs?: number } = {}): Promise<NodePodsResponse> {
    if (this.closed) return Promise.reject(new Error('NodePodsClient is closed'));
    const request: NodePodsRequest = { node };
    if (!NodePodsRequestSchema.safeParse(request).success) {
      return Promise.reject(new RangeError(`not a node name: "${node.slice(0, 300)}"`));
    }
    const key = `${cluster} ${node}`;
    let answer = this.inFlight.get(key);
    if (!answer) {
      answer = this.fetch(cluster, request, options.timeoutMs ?? this.timeoutMs).finally(() =>
        this.inFlight.delete(key),
      );
      this.inFlight.set(key, answer);
    }
    return answer;
  }

  /** Stops listening (the caller owns and closes both connections). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriber.off(this.sharded ? 'smessage' : 'message', this.handler);
    const channels = [...this.subscriptions.keys()];
    this.subscriptions.clear();
    if (channels.length > 0 && this.subscriber.status === 'ready') {
      await Promise.all(
        channels.map((c) =>
          this.sharded ? this.subscriber.sunsubscribe(c) : this.subscriber.unsubscribe(c),
        ),
      ).catch(() => undefined);
    }
  }

  private async fetch(
    cluster: ClusterName,
    request: NodePodsRequest,
    timeoutMs: number,
  ): Promise<NodePodsResponse> {
    const keys = this.keyspace.cluster(cluster);
    const cacheKey = keys.nodePodsPrefix + request.node;
    const cached = await this.read(cacheKey);
    if (cached) return cached;

    await this.subscribeReplies(keys.podsReplies);
    const waiterKey = `${keys.podsReplies} ${request.node}`;
    let timer: NodeJS.Timeout | undefined;
    let done: (() => void) | undefined;
    const replied = new Promise<boolean>((resolve) => {
      done = () => resolve(true);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const waiting = this.waiters.get(waiterKey) ?? new Set();
    this.waiters.set(waiterKey, waiting);
    const waiter = done as () => void;
    waiting.add(waiter);
    try {
      // Listening before asking: the answer cannot come before the waiter is there.
      const receivers = await (this.sharded
        ? this.redis.spublish(keys.podsRequests, JSON.stringify(request))
        : this.redis.publish(keys.podsRequests, JSON.stringify(request)));
      if (receivers === 0) {
        return this.failure(
          request.node,
          503,
          `no watcher leads cluster "${cluster}" now (nothing listens for pod requests); try again shortly`,
        );
      }
      if (!(await replied)) {
        return this.failure(
          request.node,
          504,
          `the watcher of cluster "${cluster}" did not answer within ${timeoutMs} ms`,
        );
      }
      return (
        (await this.read(cacheKey)) ??
        this.failure(request.node, 502, `the watcher's answer for node "${request.node}" could not be read`)
      );
    } finally {
      clearTimeout(timer);
      waiting.delete(waiter);
      if (waiting.size === 0 && this.waiters.get(waiterKey) === waiting) this.waiters.delete(waiterKey);
    }
  }

  private async read(key: string): Promise<NodePodsResponse | undefined> {
    const raw = await this.redis.get(key);
    if (raw === null) return undefined;
    try {
      return decodeJson(NodePodsResponseSchema, raw, key);
    } catch (err) {
      this.onInvalid(key, raw, err as Error);
      return undefined;
    }
  }

  private subscribeReplies(channel: string): Promise<void> {
    let subscribed = this.subscriptions.get(channel);
    if (!subscribed) {
      subscribed = (
        this.sharded ? this.subscriber.ssubscribe(channel) : this.subscriber.subscribe(channel)
      ).then(() => undefined);
      // A failed subscription is tried again by the next get.
      subscribed.catch(() => this.subscriptions.delete(channel));
      this.subscriptions.set(channel, subscribed);
    }
    return subscribed;
  }

  private receive(channel: string, message: string): void {
    if (!this.subscriptions.has(channel)) return;
    let node: string;
    try {
      node = decodeJson(NodePodsReadySchema, message, `${channel} message`).node;
    } catch (err) {
      this.onInvalid(`${channel} message`, message, err as Error);
      return;
    }
    for (const waiter of this.waiters.get(`${channel} ${node}`) ?? []) waiter();
  }

  private failure(node: string, status: number, message: string): NodePodsResponse {
    return { ok: false, node, fetchedAt: this.clock().toISOString(), status, message };
  }
}
