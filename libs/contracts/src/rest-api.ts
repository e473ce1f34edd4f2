import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';
import { qualifiedNameErrors } from './kube-validation.js';
import { ClusterStatusSchema } from './cluster-status.js';
import { NodeSnapshotSchema } from './node-snapshot.js';
import { NodeResourcesSchema, UsageStatusSchema } from './node-resources.js';
import { parseResourcePercentKey, resourceNameErrors, type ResourcePercentKey } from './resource-sort-key.js';

/**
 * Every 4xx/5xx body of the REST API: the HTTP status, its name, what was wrong
 * (said so that the caller can fix it) and, for validation errors, each problem.
 */
export const ErrorBodySchema = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** A registered cluster as `GET /api/v1/clusters` shows it. */
export const ClusterSummarySchema = z.object({
  seq: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
  name: ClusterNameSchema,
  registeredAt: z.string(),
  server: z.string().optional(),
  status: ClusterStatusSchema,
  nodeCount: z.number().int().nonnegative().optional(),
  podCount: z.number().int().nonnegative().optional(),
  error: z.string().optional(),
  syncedAt: z.string().optional(),
  lastEventAt: z.string().optional(),
  heartbeatAt: z.string().optional(),
  leader: z.string().optional(),
  /**
   * True for a cluster registered at runtime (`POST /api/v1/clusters`), listed from its
   * registration on, before a watcher has made it ready; absent for a cluster a
   * watcher was started with on its command line.
   */
  registered: z.boolean().optional(),
  /** When it was registered at runtime. */
  createdAt: z.string().optional(),
});
export type ClusterSummaryBody = z.infer<typeof ClusterSummarySchema>;

/** `GET /api/v1/clusters`. */
export const ClusterListResponseSchema = z.object({ items: z.array(ClusterSummarySchema) });
export type ClusterListResponse = z.infer<typeof ClusterListResponseSchema>;

/** A node as the REST API returns it: its snapshot, its pod count, its pod capacity and its resources. */
export const NodeViewSchema = z.object({
  ...NodeSnapshotSchema.shape,
  /** Non-terminated pods bound to the node. */
  podCount: z.number().int().nonnegative(),
  /** `status.capacity.pods` as a number; null when the node does not report it. */
  podCapacity: z.number().int().nonnegative().nullable(),
  /** Per resource: allocatable, what the node's pods request and limit, usage when measured (`nodeResources`). */
  resources: NodeResourcesSchema,
});
export type NodeView = z.infer<typeof NodeViewSchema>;

/** Fields `GET .../nodes` can sort by (ties are broken by name). */
export const NODE_SORT_FIELDS = ['name', 'age', 'pods', 'ready', 'schedulable', 'role', 'version'] as const;
export const NodeSortFieldSchema = z.enum(NODE_SORT_FIELDS);
export type NodeSortField = z.infer<typeof NodeSortFieldSchema>;

/** What `GET .../nodes` can sort by: a field, or a resource's percent of allocatable (`cpu.requestsPercent`). */
export type NodeSort = NodeSortField | ResourcePercentKey;
/** The `sort` parameter: a {@link NodeSort}, descending when it starts with `-`. */
export type NodeSortParam = NodeSort | `-${NodeSort}`;

/** The longest `sort` value (`-` + a resource name of at most 253 + `.requestsPercent`). */
export const MAX_SORT_LENGTH = 300;

/**
 * The `sort` parameter: a field of {@link NODE_SORT_FIELDS} or
 * `<resource>.requestsPercent|limitsPercent|usagePercent` (split on the last dot:
 * `nvidia.com/gpu.requestsPercent`), optionally with a leading `-` for descending.
 */
export const NodeSortParamSchema = z
  .string()
  .max(MAX_SORT_LENGTH, `sort must be at most ${MAX_SORT_LENGTH} characters`)
  .superRefine((raw, ctx) => {
    const key = raw.startsWith('-') ? raw.slice(1) : raw;
    if ((NODE_SORT_FIELDS as readonly string[]).includes(key)) return;
    const ref = parseResourcePercentKey(key);
    if (!ref) {
      ctx.addIssue({
        code: 'custom',
        message: `sort "${raw.slice(0, 70)}" must be one of ${NODE_SORT_FIELDS.join(', ')} or <resource>.requestsPercent, <resource>.limitsPercent, <resource>.usagePercent (e.g. cpu.requestsPercent), with an optional leading "-" for descending`,
      });
      return;
    }
    for (const problem of resourceNameErrors(ref.resource)) {
      ctx.addIssue({ code: 'custom', message: `sort: resource "${ref.resource.slice(0, 70)}": ${problem}` });
    }
  })
  .transform((raw) => raw as NodeSortParam);

/** The most nodes one page may hold. */
export const MAX_PAGE_LIMIT = 10_000;

/** The longest label selector or taint filter accepted (bounds parsing work). */
export const MAX_SELECTOR_LENGTH = 4_096;
/** The longest free-text query parameter (`q`: a node-name substring; names are at most 253). */
export const MAX_NAME_QUERY_LENGTH = 253;
/** The longest continue token accepted (tokens this API makes are far shorter). */
export const MAX_CONTINUE_LENGTH = 16_384;

const boolParam = (name: string) =>
  z.enum(['true', 'false'], { error: `${name} must be "true" or "false"` }).transform((v) => v === 'true');

/**
 * Query parameters of `GET /api/v1/clusters/:cluster/nodes` (all optional; strings
 * as they come from a URL, decoded here):
 * - `labelSelector`: Kubernetes syntax (`a=b,c!=d,e in (f,g),!h`)
 * - `ready`: `true`, `false` or `unknown` (the Ready condition)
 * - `schedulable`: `true` or `false` (not cordoned)
 * - `role`: the node has this role (`node-role.kubernetes.io/<role>`)
 * - `q`: case-insensitive substring of the node name
 * - `taint`: comma-separated list, every item must match a taint: `key`, `key=value`,
 *   `key:Effect` or `key=value:Effect`
 * - `resource`: comma-separated, every item must hold:
 *   `<resource>.<requests|limits|usage>Percent<op><number>` with `op` one of `>`, `>=`,
 *   `<`, `<=` (`cpu.requestsPercent>80,memory.usagePercent<50`); a node whose percent
 *   cannot be said (nothing allocatable, usage not measured) matches no item
 * - `sort` (default `name`): a field or `<resource>.<requests|limits|usage>Percent`
 *   (nodes whose percent cannot be said last, in either order); a leading `-` sorts
 *   descending, as does `order` (`asc`, default, or `desc`)
 * - `limit` (1..10000; default: every match) and `continue` (from the previous page)
 */
export const NodeListQuerySchema = z.strictObject({
  labelSelector: z
    .string()
    .max(MAX_SELECTOR_LENGTH, `labelSelector must be at most ${MAX_SELECTOR_LENGTH} characters`)
    .optional(),
  ready: z
    .enum(['true', 'false', 'unknown'], { error: 'ready must be "true", "false" or "unknown"' })
    .optional(),
  schedulable: boolParam('schedulable').optional(),
  role: z
    .string()
    .min(1, 'role must not be empty')
    .superRefine((role, ctx) => {
      // A role is the name part of a `node-role.kubernetes.io/<role>` label key.
      for (const problem of role === '' ? [] : qualifiedNameErrors(`node-role.kubernetes.io/${role}`)) {
        ctx.addIssue({ code: 'custom', message: `role "${role.slice(0, 70)}": ${problem}` });
      }
    })
    .optional(),
  q: z
    .string()
    .max(MAX_NAME_QUERY_LENGTH, `q must be at most ${MAX_NAME_QUERY_LENGTH} characters`)
    .optional(),
  taint: z
    .string()
    .min(1, 'taint must not be empty')
    .max(MAX_SELECTOR_LENGTH, `taint must be at most ${MAX_SELECTOR_LENGTH} characters`)
    .optional(),
  resource: z
    .string()
    .min(1, 'resource must not be empty')
    .max(MAX_SELECTOR_LENGTH, `resource must be at most ${MAX_SELECTOR_LENGTH} characters`)
    .optional(),
  sort: NodeSortParamSchema.default('name'),
  order: z.enum(['asc', 'desc'], { error: 'order must be "asc" or "desc"' }).default('asc'),
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be an integer')
    .min(1, 'limit must be at least 1')
    .max(MAX_PAGE_LIMIT, `limit must be at most ${MAX_PAGE_LIMIT}`)
    .optional(),
  continue: z
    .string()
    .min(1, 'continue must not be empty')
    .max(MAX_CONTINUE_LENGTH, `continue must be at most ${MAX_CONTINUE_LENGTH} characters`)
    .optional(),
});
/** The decoded query (defaults applied). */
export type NodeListQuery = z.infer<typeof NodeListQuerySchema>;
/** The query as a caller writes it (everything optional). */
export type NodeListQueryInput = z.input<typeof NodeListQuerySchema>;

/**
 * `GET /api/v1/clusters/:cluster/nodes`: one page of matching nodes, the `seq` and
 * `epoch` of the state it was read from, how many nodes match in all, and the token
 * of the next page (absent on the last page).
 */
export const NodeListResponseSchema = z.object({
  cluster: ClusterNameSchema,
  seq: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  items: z.array(NodeViewSchema),
  continue: z.string().optional(),
  /** The cluster's last metrics poll that the items' usage comes from; absent before the first. */
  usage: UsageStatusSchema.optional(),
});
export type NodeListResponse = z.infer<typeof NodeListResponseSchema>;

/** `GET /api/v1/clusters/:cluster/nodes/:node`. */
export const NodeResponseSchema = z.object({
  cluster: ClusterNameSchema,
  seq: z.number().int().nonnegative(),
  node: NodeViewSchema,
  /** The cluster's last metrics poll that the node's usage comes from; absent before the first. */
  usage: UsageStatusSchema.optional(),
});
export type NodeResponse = z.infer<typeof NodeResponseSchema>;

/** `GET /api/v1/clusters/:cluster/pod-counts`: every node's count (absent node = 0) and their sum. */
export const PodCountsResponseSchema = z.object({
  cluster: ClusterNameSchema,
  seq: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  counts: z.record(z.string(), z.number().int().nonnegative()),
});
export type PodCountsResponse = z.infer<typeof PodCountsResponseSchema>;

/** One gateway replica as `GET /api/v1/ws/stats` reports it. */
export const GatewayStatsSchema = z.object({
  gateway: z.string(),
  clients: z.number().int().nonnegative(),
  /** Cluster -> sockets of this replica subscribed to it (only the clusters the caller's token covers). */
  subscriptions: z.record(z.string(), z.number().int().nonnegative()),
});
export type GatewayStats = z.infer<typeof GatewayStatsSchema>;

/** `GET /api/v1/ws/stats`: realtime clients across every gateway replica that answered. */
export const WsStatsResponseSchema = z.object({
  gateways: z.number().int().nonnegative(),
  clients: z.number().int().nonnegative(),
  /** Cluster -> sockets subscribed to it, summed over replicas (only the clusters the caller's token covers). */
  subscriptions: z.record(z.string(), z.number().int().nonnegative()),
  replicas: z.array(GatewayStatsSchema),
});
export type WsStatsResponse = z.infer<typeof WsStatsResponseSchema>;

/** `GET /api/v1/ws/ping`: the realtime layer of the replica that answered. */
export const WsPingResponseSchema = z.object({
  ok: z.boolean(),
  gateway: z.string(),
  /** Realtime protocol version spoken ({@link PROTOCOL_VERSION}). */
  protocol: z.number().int().positive(),
  /** Socket.IO clients connected to this replica. */
  clients: z.number().int().nonnegative(),
  /** State of the Redis connection that receives the changes channels (`ready` when healthy). */
  changesConnection: z.string(),
  /** Round trip of a Redis PING from this replica, in milliseconds (absent when Redis did not answer). */
  redisLatencyMs: z.number().nonnegative().optional(),
});
export type WsPingResponse = z.infer<typeof WsPingResponseSchema>;

/** `POST /api/v1/ws/test` body (admin): push a test message to a cluster's subscribers. */
export const WsTestRequestSchema = z.strictObject({
  cluster: ClusterNameSchema,
  /** Shown to the receivers. */
  message: z.string().max(200).default('knm test message'),
  /** How long to wait for the receivers' acknowledgements. Default 3,000 ms. */
  timeoutMs: z.number().int().min(100).max(30_000).default(3_000),
});
export type WsTestRequest = z.infer<typeof WsTestRequestSchema>;

/** `POST /api/v1/ws/test` answer: how far the message went, through Redis and every replica. */
export const WsTestResponseSchema = z.object({
  id: z.string(),
  cluster: ClusterNameSchema,
  /** Replicas that answered the stats request (each relays the message to its sockets). */
  gateways: z.number().int().nonnegative(),
  /** Sockets subscribed to the cluster across those replicas when the message was sent. */
  subscribers: z.number().int().nonnegative(),
  /** Sockets that acknowledged the message within `timeoutMs`. */
  received: z.number().int().nonnegative(),
  /** From sending to the last acknowledgement (or the timeout). */
  durationMs: z.number().nonnegative(),
});
export type WsTestResponse = z.infer<typeof WsTestResponseSchema>;
