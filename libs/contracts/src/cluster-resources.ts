import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';
import { ResourceFiguresSchema, UsageStatusSchema } from './node-resources.js';

/** The label a node's zone is read from (`none` when absent). */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/**
 * The labels a node's pool is read from, the first present winning (GKE, EKS,
 * Karpenter, AKS, then the generic one); `none` when the node has none of them.
 */
export const NODE_POOL_LABELS = [
  'cloud.google.com/gke-nodepool',
  'eks.amazonaws.com/nodegroup',
  'karpenter.sh/nodepool',
  'kubernetes.azure.com/agentpool',
  'node.kubernetes.io/pool',
] as const;

/** The group name of nodes without the label. */
export const NO_GROUP = 'none';

/**
 * Resource name -> the sums over a set of nodes: allocatable, requests, limits (base
 * units, as a node's `resources`), and usage summed over the nodes the last metrics
 * poll measured (absent when it measured none of them).
 */
export const ResourceTotalsSchema = z.record(z.string(), ResourceFiguresSchema);
export type ResourceTotals = z.infer<typeof ResourceTotalsSchema>;

/** The nodes of one zone or pool and their resources summed. */
export const ResourceGroupSchema = z.object({
  name: z.string(),
  nodes: z.number().int().nonnegative(),
  /** Nodes whose usage the last poll measured (a group's usage is of these only). */
  measured: z.number().int().nonnegative(),
  resources: ResourceTotalsSchema,
});
export type ResourceGroup = z.infer<typeof ResourceGroupSchema>;

/**
 * `GET /api/v1/clusters/:cluster/resources`: the cluster's resources summed over
 * every node, and by zone ({@link ZONE_LABEL}) and node pool
 * ({@link NODE_POOL_LABELS}), groups by name; `usage` is the metrics poll the usage
 * sums come from (absent before the first).
 */
export const ClusterResourcesResponseSchema = z.object({
  cluster: ClusterNameSchema,
  seq: z.number().int().nonnegative(),
  totals: ResourceGroupSchema.omit({ name: true }),
  zones: z.array(ResourceGroupSchema),
  pools: z.array(ResourceGroupSchema),
  usage: UsageStatusSchema.optional(),
});
export type ClusterResourcesResponse = z.infer<typeof ClusterResourcesResponseSchema>;

/** The zone a node is in ({@link NO_GROUP} without the label). */
export function nodeZone(labels: Readonly<Record<string, string>>): string {
  return Object.hasOwn(labels, ZONE_LABEL) ? (labels[ZONE_LABEL] as string) : NO_GROUP;
}

/** The pool a node is in: the first of {@link NODE_POOL_LABELS} it has ({@link NO_GROUP} with none). */
export function nodePool(labels: Readonly<Record<string, string>>): string {
  for (const label of NODE_POOL_LABELS) if (Object.hasOwn(labels, label)) return labels[label] as string;
  return NO_GROUP;
}
