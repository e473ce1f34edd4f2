import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';
import { ClusterStatusSchema } from './cluster-status.js';
import { ResourceGroupSchema } from './cluster-resources.js';
import { NodeListQuerySchema, NodeViewSchema } from './rest-api.js';

/**
 * The page size of `GET /api/v1/nodes` without `cluster_name` when `limit` is not
 * given: a fleet of 50 clusters of 1,000 nodes is ~100 MB of JSON in one answer,
 * which no caller wants by accident (the per-cluster list keeps "every match").
 */
export const FLEET_DEFAULT_LIMIT = 500;

/**
 * Query of `GET /api/v1/nodes`: the per-cluster list's filters, sort and paging,
 * and `cluster_name`. With `cluster_name` the answer is that cluster's list (the
 * original API); without it, the fleet list over every cluster the token covers.
 */
export const NodesRouteQuerySchema = z.strictObject({
  ...NodeListQuerySchema.shape,
  cluster_name: ClusterNameSchema.optional(),
});

/** A node of the fleet list: the per-cluster list's node and the cluster it is in. */
export const FleetNodeViewSchema = z.object({
  ...NodeViewSchema.shape,
  cluster: ClusterNameSchema,
});
export type FleetNodeView = z.infer<typeof FleetNodeViewSchema>;

/**
 * One cluster of the fleet as the fleet list read it: its status (a cluster that is
 * not `ready` still lists its last known nodes), how many nodes it holds and how
 * many match the filters, and the state (epoch, seq) they were read at. `error`
 * says why it could not be read at all (then it lists nothing).
 */
export const FleetClusterSchema = z.object({
  name: ClusterNameSchema,
  status: ClusterStatusSchema,
  epoch: z.number().int().nonnegative(),
  seq: z.number().int().nonnegative(),
  nodes: z.number().int().nonnegative(),
  matching: z.number().int().nonnegative(),
  error: z.string().optional(),
});
export type FleetCluster = z.infer<typeof FleetClusterSchema>;

/**
 * `GET /api/v1/nodes` without `cluster_name`: one page of the matching nodes of
 * every cluster the token covers, merged in the query's order (ties by cluster,
 * then node name, in the same direction, as a cluster's list breaks ties by name); `total` counts the matches over every page; `clusters` lists
 * every covered cluster by name; `totals` sums every node of those clusters
 * (unfiltered, as each cluster's `/resources` totals do).
 */
export const FleetNodeListResponseSchema = z.object({
  total: z.number().int().nonnegative(),
  items: z.array(FleetNodeViewSchema),
  continue: z.string().optional(),
  clusters: z.array(FleetClusterSchema),
  totals: ResourceGroupSchema.omit({ name: true }),
});
export type FleetNodeListResponse = z.infer<typeof FleetNodeListResponseSchema>;
