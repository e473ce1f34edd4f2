import type { ClusterName } from './cluster-name.js';

/** The field of `usageByNode` holding the poll without its nodes (no node name can contain ':'). */
export const USAGE_POLL_FIELD = ':poll';

/** The default namespace every knm key starts with. */
export const DEFAULT_NAMESPACE = 'knm';
const NAMESPACE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The Redis keys and channel of one cluster; see {@link Keyspace}. */
export interface ClusterKeys {
  /** Hash: node name -> NodeSnapshot JSON. */
  readonly nodes: string;
  /** Hash: node name -> count of non-terminated pods bound to it (an integer). */
  readonly pods: string;
  /** Hash: node name -> NodeAllocation JSON (nodes with pods that take something only). */
  readonly allocation: string;
  /** String: the latest UsageSnapshot JSON (one poll of the metrics API). */
  readonly usage: string;
  /**
   * Hash: the same snapshot by node (`<node>` -> NodeUsage JSON) and, under
   * {@link USAGE_POLL_FIELD}, the snapshot without its nodes: what one node's answer
   * reads instead of the whole snapshot.
   */
  readonly usageByNode: string;
  /**
   * Pub/sub channel of NodePodsRequest JSON: the gateway asks the cluster's leading
   * watcher (which holds the credentials) for the pods of a node.
   */
  readonly podsRequests: string;
  /** Pub/sub channel of NodePodsReady JSON: the watcher says a node's pods are in {@link ClusterKeys.nodePods}. */
  readonly podsReplies: string;
  /** Prefix of the string keys `<prefix><node>`: one node's NodePodsResponse JSON, with a short TTL (the cache). */
  readonly nodePodsPrefix: string;
  /** Hash: seq, epoch, status, error, syncedAt, lastEventAt, heartbeatAt, nodeCount, podCount, leader. */
  readonly meta: string;
  /** Stream of envelopes (capped) for replay after a reconnect; field `e` holds the JSON. */
  readonly events: string;
  /** Pub/sub channel on which every envelope is published as JSON. */
  readonly changes: string;
  /** String: the leader's identity, with a TTL (the lease). */
  readonly lease: string;
  /** String: the fencing epoch counter, incremented by each new leader. */
  readonly epoch: string;
  /**
   * Prefix of the per-node history streams `<prefix><node>`: the node's transitions
   * (`HistoryRecord` JSON in field `h`), capped by length and age, expiring with them.
   */
  readonly historyPrefix: string;
  /** Sorted set: incident id -> its end (ms; `+inf` while open), for `since` queries and trimming by age. */
  readonly incidents: string;
  /** Hash: incident id -> Incident JSON. */
  readonly incidentData: string;
  /** Hash: node name -> IncidentTracker JSON (its open incident and recent health changes). */
  readonly incidentNodes: string;
  /** Prefix for this cluster's BullMQ queues, so their keys share the cluster's slot. */
  readonly queuePrefix: string;
  /**
   * Stream of IncidentTransition JSON (field `t`), appended in the fenced step that
   * opens or resolves an incident: the outbox the notification dispatcher reads.
   */
  readonly incidentEvents: string;
  /** String: the ID of the last `incidentEvents` entry handed to the delivery queue. */
  readonly notifyCursor: string;
  /** String: the range of `incidentEvents` being handed over (so a dispatcher that dies mid-way is finished with the same jobs). */
  readonly notifyPlan: string;
}

/**
 * The Redis key layout: a public contract (see the README). Every key of one
 * cluster carries the hash tag `{<cluster>}`, so a Redis Cluster keeps them in one
 * slot and a Lua script may touch them together. `namespace` (default `knm`) lets
 * several installations, or tests, share one Redis without seeing each other.
 */
export class Keyspace {
  readonly namespace: string;

  constructor(namespace: string = DEFAULT_NAMESPACE) {
    if (!NAMESPACE.test(namespace)) {
      throw new RangeError(
        `Redis namespace "${namespace}" must be 1-63 lowercase alphanumerics or '-', starting alphanumeric`,
      );
    }
    this.namespace = namespace;
  }

  /** Hash: cluster name -> ClusterRegistryEntry JSON (every cluster any watcher has registered). */
  get clusters(): string {
    return `${this.namespace}:clusters`;
  }

  /**
   * Hash: cluster name -> ClusterConnectionRecord JSON (clusters registered at runtime,
   * their credentials sealed).
   */
  get connections(): string {
    return `${this.namespace}:connections`;
  }

  /** Pub/sub channel of ClusterConnectionChange JSON: published after every change of {@link connections}. */
  get connectionChanges(): string {
    return `${this.namespace}:connections:changes`;
  }

  /** Hash: sink id -> WebhookSinkRecord JSON (where incidents are notified; URLs sealed). */
  get webhooks(): string {
    return `${this.namespace}:webhooks`;
  }

  /**
   * Prefix of the BullMQ queue that delivers notifications (all clusters):
   * `<ns>:{notify}`, hash-tagged so a Redis Cluster keeps the queue's keys in one slot.
   */
  get notifyQueuePrefix(): string {
    return `${this.namespace}:{notify}`;
  }

  /**
   * Sorted set: watcher pool member identity -> the Redis time (ms) its membership
   * expires (heartbeat + lease TTL). Live members are the unexpired entries.
   */
  get poolMembers(): string {
    return `${this.namespace}:pool:members`;
  }

  /** Stream of audit records of node operations (all clusters). */
  get audit(): string {
    return `${this.namespace}:audit`;
  }

  /** Key prefix of the Socket.IO Redis adapter's channels. */
  get socketIoPrefix(): string {
    return `${this.namespace}:sio`;
  }

  /**
   * String counter of one rate-limit window: `<ns>:ratelimit:<scope>:<id>`, with a TTL
   * (the window). `scope` is a fixed name (`auth`, `ops`, `subscribe`, `login`, `webhook`); `id` (a client address, a
   * token subject) is URI-encoded, so it can carry no ':', '{', '}' or space and the
   * key always lies under `<ns>:ratelimit:<scope>:`.
   */
  rateLimit(scope: 'auth' | 'ops' | 'subscribe' | 'login' | 'webhook', id: string): string {
    return `${this.namespace}:ratelimit:${scope}:${encodeURIComponent(id)}`;
  }

  /**
   * A dashboard sign-in session (string + TTL): `<ns>:session:<lookup>`, where `lookup`
   * is a hash of the session cookie (base64url), never the cookie itself; the value is
   * sealed with a key only the cookie gives.
   */
  session(lookup: string): string {
    return `${this.namespace}:session:${lookup}`;
  }

  /** A sign-in in progress with the identity provider (string + TTL): `<ns>:oidc-login:<lookup>`. */
  oidcLogin(lookup: string): string {
    return `${this.namespace}:oidc-login:${lookup}`;
  }

  /** The keys of one cluster. */
  cluster(cluster: ClusterName): ClusterKeys {
    const p = `${this.namespace}:{${cluster}}`;
    return {
      nodes: `${p}:nodes`,
      pods: `${p}:pods`,
      allocation: `${p}:allocation`,
      usage: `${p}:usage`,
      usageByNode: `${p}:usage-by-node`,
      podsRequests: `${p}:pods-requests`,
      podsReplies: `${p}:pods-replies`,
      nodePodsPrefix: `${p}:node-pods:`,
      meta: `${p}:meta`,
      events: `${p}:events`,
      changes: `${p}:changes`,
      lease: `${p}:lease`,
      epoch: `${p}:epoch`,
      historyPrefix: `${p}:history:`,
      incidents: `${p}:incidents`,
      incidentData: `${p}:incident-data`,
      incidentNodes: `${p}:incident-nodes`,
      queuePrefix: p,
      incidentEvents: `${p}:incident-events`,
      notifyCursor: `${p}:notify-cursor`,
      notifyPlan: `${p}:notify-plan`,
    };
  }
}
