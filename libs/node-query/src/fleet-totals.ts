import type { ResourceGroup } from '@knm/contracts';

/** A set of nodes' counts and resources summed, without a group name (a rollup's `totals`). */
export type ResourceSum = Omit<ResourceGroup, 'name'>;

/**
 * The sum of several clusters' rollup totals ({@link resourceRollup}'s `totals`):
 * the fleet's nodes, measured nodes and resources, each resource's usage summed over
 * the clusters that measured it. Pure.
 */
export function sumResourceTotals(parts: readonly ResourceSum[]): ResourceSum {
  const out: ResourceSum = { nodes: 0, measured: 0, resources: {} };
  for (const part of parts) {
    out.nodes += part.nodes;
    out.measured += part.measured;
    for (const [name, figures] of Object.entries(part.resources)) {
      let sum = Object.hasOwn(out.resources, name) ? out.resources[name] : undefined;
      if (!sum) {
        sum = { allocatable: 0, requests: 0, limits: 0 };
        out.resources[name] = sum;
      }
      sum.allocatable += figures.allocatable;
      sum.requests += figures.requests;
      sum.limits += figures.limits;
      if (figures.usage !== undefined) sum.usage = (sum.usage ?? 0) + figures.usage;
    }
  }
  return out;
}
