import { z } from 'zod';
import type { NodeSnapshot } from './node-snapshot.js';
import { quantityToBaseUnits } from './quantity.js';

/**
 * Resource name -> amount in base units (millicores for `cpu`; bytes for memory,
 * storage and hugepages; a count for the rest; see `quantityToBaseUnits`).
 */
export const ResourceAmountsSchema = z.record(z.string(), z.number().nonnegative());
export type ResourceAmounts = z.infer<typeof ResourceAmountsSchema>;

/**
 * What the pods that count on a node (bound, not Succeeded/Failed: the pod-count
 * rule) take of it: the sums of their effective requests and limits
 * (`podResourceTotals`). Zero entries are left out; a node without such pods has
 * empty records.
 */
export const NodeAllocationSchema = z.object({
  requests: ResourceAmountsSchema,
  limits: ResourceAmountsSchema,
});
export type NodeAllocation = z.infer<typeof NodeAllocationSchema>;

/** A node's usage as metrics.k8s.io reports it: cpu in millicores, memory (working set) in bytes. */
export const NodeUsageSchema = z.object({ cpu: z.number().nonnegative(), memory: z.number().nonnegative() });
export type NodeUsage = z.infer<typeof NodeUsageSchema>;

/**
 * One poll of a cluster's metrics API (`metrics.k8s.io/v1beta1` NodeMetrics): a
 * snapshot of every node's usage, or why there is none (no metrics API, an error).
 * `polledAt` is when the watcher read it; `timestamp` and `window` are the metrics
 * server's: the end of the window the usage was measured over, and its length.
 */
export const UsageSnapshotSchema = z.discriminatedUnion('available', [
  z.object({
    available: z.literal(true),
    polledAt: z.string(),
    /** The newest NodeMetrics `timestamp` of the poll. */
    timestamp: z.string().optional(),
    /** The NodeMetrics `window` (`15s`, `20.004s`). */
    window: z.string().optional(),
    nodes: z.record(z.string(), NodeUsageSchema),
  }),
  z.object({
    available: z.literal(false),
    polledAt: z.string(),
    /** Said so that a person can act on it (`the cluster serves no metrics.k8s.io API`). */
    reason: z.string(),
  }),
]);
export type UsageSnapshot = z.infer<typeof UsageSnapshotSchema>;

/**
 * A {@link UsageSnapshot} without its per-node figures (REST answers carry those in
 * each node's `resources`): whether usage is measured, when it was polled, or why not.
 */
export const UsageStatusSchema = z.discriminatedUnion('available', [
  UsageSnapshotSchema.options[0].omit({ nodes: true }),
  UsageSnapshotSchema.options[1],
]);
export type UsageStatus = z.infer<typeof UsageStatusSchema>;

/** The status part of a usage snapshot. */
export function usageStatus(snapshot: UsageSnapshot): UsageStatus {
  if (!snapshot.available) return snapshot;
  const { nodes: _nodes, ...status } = snapshot;
  return status;
}

/**
 * One resource of one node: its allocatable, what the node's pods request and
 * limit, and its usage when the metrics API measured it (cpu and memory only).
 * For `pods`, requests and limits are the pod count.
 */
export const ResourceFiguresSchema = z.object({
  allocatable: z.number().nonnegative(),
  requests: z.number().nonnegative(),
  limits: z.number().nonnegative(),
  usage: z.number().nonnegative().optional(),
});
export type ResourceFigures = z.infer<typeof ResourceFiguresSchema>;

/** Resource name -> its figures: every allocatable resource, plus any the pods request or limit. */
export const NodeResourcesSchema = z.record(z.string(), ResourceFiguresSchema);
export type NodeResources = z.infer<typeof NodeResourcesSchema>;

/** The figures a percentage of allocatable can be taken of. */
export const RESOURCE_MEASURES = ['requests', 'limits', 'usage'] as const;
export type ResourceMeasure = (typeof RESOURCE_MEASURES)[number];

/** An allocation with nothing in it. */
export const EMPTY_ALLOCATION: NodeAllocation = Object.freeze({
  requests: Object.freeze({}),
  limits: Object.freeze({}),
}) as NodeAllocation;

/** True when the allocation holds nothing (every pod left the node). */
export function isEmptyAllocation(allocation: NodeAllocation): boolean {
  return Object.keys(allocation.requests).length === 0 && Object.keys(allocation.limits).length === 0;
}

/**
 * A node's {@link NodeResources}: its allocatable (from the snapshot), its pods'
 * allocation and pod count, and its usage when known. The one way the gateway and
 * the client SDK build it.
 */
export function nodeResources(
  node: NodeSnapshot,
  podCount: number,
  allocation: NodeAllocation | undefined,
  usage: NodeUsage | undefined,
): NodeResources {
  const out: NodeResources = {};
  const entry = (name: string): ResourceFigures => {
    let figures = out[name];
    if (!figures) {
      figures = { allocatable: 0, requests: 0, limits: 0 };
      out[name] = figures;
    }
    return figures;
  };
  for (const [name, quantity] of Object.entries(node.allocatable)) {
    entry(name).allocatable = Math.max(0, quantityToBaseUnits(name, quantity) ?? 0);
  }
  for (const [name, amount] of Object.entries(allocation?.requests ?? {})) entry(name).requests = amount;
  for (const [name, amount] of Object.entries(allocation?.limits ?? {})) entry(name).limits = amount;
  const pods = entry('pods');
  pods.requests = podCount;
  pods.limits = podCount;
  if (usage) {
    entry('cpu').usage = usage.cpu;
    entry('memory').usage = usage.memory;
  }
  return out;
}

/**
 * The figures of one resource of a node, equal to `nodeResources(...)[resource]`
 * without building the others (sorting and filtering thousands of nodes by one
 * resource reads only it). Undefined when the node has no such entry.
 */
export function nodeResourceFigures(
  node: NodeSnapshot,
  podCount: number,
  allocation: NodeAllocation | undefined,
  usage: NodeUsage | undefined,
  resource: string,
): ResourceFigures | undefined {
  const quantity = Object.hasOwn(node.allocatable, resource) ? node.allocatable[resource] : undefined;
  const requests =
    allocation && Object.hasOwn(allocation.requests, resource) ? allocation.requests[resource] : undefined;
  const limits =
    allocation && Object.hasOwn(allocation.limits, resource) ? allocation.limits[resource] : undefined;
  const used = usage && (resource === 'cpu' || resource === 'memory') ? usage[resource] : undefined;
  const isPods = resource === 'pods';
  if (
    quantity === undefined &&
    requests === undefined &&
    limits === undefined &&
    used === undefined &&
    !isPods
  ) {
    return undefined;
  }
  const figures: ResourceFigures = {
    allocatable: quantity === undefined ? 0 : Math.max(0, quantityToBaseUnits(resource, quantity) ?? 0),
    requests: isPods ? podCount : (requests ?? 0),
    limits: isPods ? podCount : (limits ?? 0),
  };
  if (used !== undefined) figures.usage = used;
  return figures;
}

/**
 * `measure` of `figures` as a percent of allocatable; null when it cannot be said
 * (nothing allocatable, or no usage measured).
 */
export function resourcePercent(
  figures: ResourceFigures | undefined,
  measure: ResourceMeasure,
): number | null {
  if (!figures || figures.allocatable <= 0) return null;
  const value = figures[measure];
  return value === undefined ? null : (value / figures.allocatable) * 100;
}
