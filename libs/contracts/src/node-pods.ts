import { z } from 'zod';
import { ResourceAmountsSchema } from './node-resources.js';

/** The most pods one `GET .../nodes/:node/pods` answer lists (a node runs at most a few hundred). */
export const MAX_NODE_PODS = 1_000;

/** How long a node's pod list is served from the cache before the watcher is asked again. */
export const NODE_PODS_CACHE_MS = 5_000;

/**
 * Published by a gateway on a cluster's `podsRequests` channel: "list the pods of
 * `node`". The leading watcher answers by writing a {@link NodePodsResponse} under
 * `nodePodsPrefix + node` and publishing {@link NodePodsReady}; requests for a node
 * whose answer is being fetched share that fetch.
 */
export const NodePodsRequestSchema = z.strictObject({
  node: z.string().min(1).max(253),
});
export type NodePodsRequest = z.infer<typeof NodePodsRequestSchema>;

/** Published by the watcher on `podsReplies` once `node`'s answer is stored. */
export const NodePodsReadySchema = z.strictObject({ node: z.string() });
export type NodePodsReady = z.infer<typeof NodePodsReadySchema>;

/** One pod behind a node's numbers. */
export const NodePodSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  uid: z.string(),
  /** `status.phase`; `Unknown` when the pod reports none. */
  phase: z.string(),
  createdAt: z.string().optional(),
  /** The controller that owns it (`ReplicaSet/web-7d9f`), when any. */
  owner: z.object({ kind: z.string(), name: z.string() }).optional(),
  /** Effective requests and limits in base units (`podResourceTotals`). */
  requests: ResourceAmountsSchema,
  limits: ResourceAmountsSchema,
  /** From metrics.k8s.io PodMetrics (sum of its containers), when the cluster serves it. */
  usage: z.object({ cpu: z.number().nonnegative(), memory: z.number().nonnegative() }).optional(),
  /** Whether it counts on the node (bound, not Succeeded/Failed), i.e. is in the node's sums. */
  counted: z.boolean(),
});
export type NodePod = z.infer<typeof NodePodSchema>;

/** `GET /api/v1/clusters/:cluster/nodes/:node/pods`, as the watcher stores it and the gateway serves it. */
export const NodePodsResponseSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    node: z.string(),
    /** When the watcher read the pods from the API server. */
    fetchedAt: z.string(),
    /** More than {@link MAX_NODE_PODS} pods: the rest are not listed. */
    truncated: z.boolean(),
    /** Whether pod usage could be read (false: no metrics API, or it failed). */
    usageAvailable: z.boolean(),
    items: z.array(NodePodSchema),
  }),
  z.object({
    ok: z.literal(false),
    node: z.string(),
    fetchedAt: z.string(),
    /** HTTP status the gateway answers with (404 no such node, 502 the API server failed). */
    status: z.number().int(),
    message: z.string(),
  }),
]);
export type NodePodsResponse = z.infer<typeof NodePodsResponseSchema>;

/** The body of a `200` answer of `GET .../nodes/:node/pods`: the watcher's answer as it stored it. */
export const NodePodsListSchema = NodePodsResponseSchema.options[0];
export type NodePodsList = z.infer<typeof NodePodsListSchema>;
