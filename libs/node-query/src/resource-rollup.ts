import {
  nodePool,
  nodeResources,
  nodeZone,
  usageStatus,
  type ClusterResourcesResponse,
  type NodeResources,
  type ResourceGroup,
} from '@knm/contracts';
import { ownEntry } from './own-entry.js';
import type { NodeQueryInput } from './query-nodes.js';

/** A group being summed. */
class GroupSum {
  nodes = 0;
  measured = 0;
  readonly resources: NodeResources = {};

  add(resources: NodeResources, measured: boolean): void {
    this.nodes += 1;
    if (measured) this.measured += 1;
    for (const [name, figures] of Object.entries(resources)) {
      let sum = this.resources[name];
      if (!sum) {
        sum = { allocatable: 0, requests: 0, limits: 0 };
        this.resources[name] = sum;
      }
      sum.allocatable += figures.allocatable;
      sum.requests += figures.requests;
      sum.limits += figures.limits;
      if (figures.usage !== undefined) sum.usage = (sum.usage ?? 0) + figures.usage;
    }
  }

  group(name: string): ResourceGroup {
    return { name, nodes: this.nodes, measured: this.measured, resources: this.resources };
  }
}

function sortedGroups(groups: Map<string, GroupSum>): ResourceGroup[] {
  return [...groups.keys()].sort().map((name) => (groups.get(name) as GroupSum).group(name));
}

/**
 * A cluster's resources summed over every node, by zone and by node pool (each
 * node's `resources` as the node list answers them), with the usage poll's status.
 * Pure.
 */
export function resourceRollup(input: NodeQueryInput): Omit<ClusterResourcesResponse, 'cluster'> {
  const usage = input.usage?.available ? input.usage.nodes : undefined;
  const totals = new GroupSum();
  const zones = new Map<string, GroupSum>();
  const pools = new Map<string, GroupSum>();
  const into = (groups: Map<string, GroupSum>, name: string): GroupSum => {
    let group = groups.get(name);
    if (!group) {
      group = new GroupSum();
      groups.set(name, group);
    }
    return group;
  };
  for (const node of input.nodes) {
    const podCount = ownEntry(input.podCounts, node.name) ?? 0;
    const used = ownEntry(usage, node.name);
    const resources = nodeResources(node, podCount, ownEntry(input.allocation, node.name), used);
    const measured = used !== undefined;
    totals.add(resources, measured);
    into(zones, nodeZone(node.labels)).add(resources, measured);
    into(pools, nodePool(node.labels)).add(resources, measured);
  }
  const { name: _name, ...all } = totals.group('');
  const out: Omit<ClusterResourcesResponse, 'cluster'> = {
    seq: input.seq,
    totals: all,
    zones: sortedGroups(zones),
    pools: sortedGroups(pools),
  };
  if (input.usage) out.usage = usageStatus(input.usage);
  return out;
}
