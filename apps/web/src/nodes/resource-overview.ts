import { nodePool, nodeZone, type ResourceFigures } from '@knm/contracts';
import type { NodeRow } from './node-row.js';
import { BAR_RESOURCES, type BarResource } from './resource-bar.js';

/** How the overview groups nodes: zone or node pool (the `GET .../resources` rollups' rules). */
export type OverviewGrouping = 'zone' | 'pool';

/** One resource summed over nodes. */
export interface ResourceSum extends ResourceFigures {
  /** Allocatable of the nodes whose usage was measured (what the usage percent is of). */
  measuredAllocatable: number;
}

/** One zone or pool: its nodes and what they request of CPU and memory. */
export interface OverviewGroup {
  name: string;
  nodes: number;
  cpu: ResourceSum;
  memory: ResourceSum;
}

/** One node under pressure: the resource it has the most requested of, and how much. */
export interface PressuredNode {
  name: string;
  resource: BarResource;
  percent: number;
}

/** The cluster overview: totals, groups by name, the nodes under most pressure. */
export interface ResourceOverview {
  nodes: number;
  totals: Record<BarResource, ResourceSum>;
  groups: OverviewGroup[];
  pressure: PressuredNode[];
}

const emptySum = (): ResourceSum => ({ allocatable: 0, requests: 0, limits: 0, measuredAllocatable: 0 });

function add(sum: ResourceSum, figures: ResourceFigures | undefined): void {
  if (!figures) return;
  sum.allocatable += figures.allocatable;
  sum.requests += figures.requests;
  sum.limits += figures.limits;
  if (figures.usage !== undefined) {
    sum.usage = (sum.usage ?? 0) + figures.usage;
    sum.measuredAllocatable += figures.allocatable;
  }
}

/** Percent of allocatable (usage: of the measured nodes' allocatable); null when nothing to take it of. */
export function sumPercent(sum: ResourceSum, measure: 'requests' | 'limits' | 'usage'): number | null {
  if (measure === 'usage') {
    return sum.usage === undefined || sum.measuredAllocatable <= 0
      ? null
      : (sum.usage / sum.measuredAllocatable) * 100;
  }
  return sum.allocatable <= 0 ? null : (sum[measure] / sum.allocatable) * 100;
}

/** Whether `a` comes before `b` among the most pressured: higher percent first, ties by name. */
const before = (a: PressuredNode, b: PressuredNode): boolean =>
  a.percent > b.percent || (a.percent === b.percent && a.name < b.name);

/**
 * Sums the rows' resources in all and per zone or pool, and picks the `top` nodes
 * with the highest percent requested of any resource (ties by name). Pure; one pass
 * over the rows, the `top` kept in order as it goes (no sort of every row: this
 * runs about once a second under churn, over 5,000 rows).
 */
export function resourceOverview(
  rows: Iterable<NodeRow>,
  grouping: OverviewGrouping,
  top = 5,
): ResourceOverview {
  const totals = Object.fromEntries(BAR_RESOURCES.map((r) => [r, emptySum()])) as Record<
    BarResource,
    ResourceSum
  >;
  const groups = new Map<string, OverviewGroup>();
  const pressure: PressuredNode[] = [];
  let nodes = 0;
  for (const row of rows) {
    nodes += 1;
    for (const resource of BAR_RESOURCES) add(totals[resource], row.bars[resource]?.figures);
    const key = grouping === 'zone' ? nodeZone(row.node.labels) : nodePool(row.node.labels);
    let group = groups.get(key);
    if (!group) {
      group = { name: key, nodes: 0, cpu: emptySum(), memory: emptySum() };
      groups.set(key, group);
    }
    group.nodes += 1;
    add(group.cpu, row.bars.cpu?.figures);
    add(group.memory, row.bars.memory?.figures);
    let worst: BarResource | undefined;
    let worstPercent = 0;
    for (const resource of BAR_RESOURCES) {
      const percent = row.bars[resource]?.requestsPercent;
      if (percent !== null && percent !== undefined && (worst === undefined || percent > worstPercent)) {
        worst = resource;
        worstPercent = percent;
      }
    }
    if (worst === undefined || top <= 0) continue;
    const candidate: PressuredNode = { name: row.name, resource: worst, percent: worstPercent };
    const last = pressure[pressure.length - 1];
    if (pressure.length === top && last && !before(candidate, last)) continue;
    let at = pressure.length;
    while (at > 0 && before(candidate, pressure[at - 1] as PressuredNode)) at -= 1;
    pressure.splice(at, 0, candidate);
    if (pressure.length > top) pressure.pop();
  }
  return {
    nodes,
    totals,
    groups: [...groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    pressure,
  };
}
