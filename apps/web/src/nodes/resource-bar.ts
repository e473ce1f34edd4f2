import { resourcePercent, type NodeResources, type ResourceFigures } from '@knm/contracts';
import { formatBytes, formatCores } from './quantity.js';

/** The resources the table shows as bars. */
export const BAR_RESOURCES = ['pods', 'cpu', 'memory', 'gpu'] as const;
export type BarResource = (typeof BAR_RESOURCES)[number];

/** What a bar says of one resource of a node (figures in base units; percents of allocatable). */
export interface ResourceBar {
  figures: ResourceFigures;
  /** Requests of allocatable: the bar's length. Null when nothing is allocatable. */
  requestsPercent: number | null;
  /** Limits of allocatable: the second mark (may pass 100: overcommitted). */
  limitsPercent: number | null;
  /** Usage of allocatable: the usage mark. Null when not measured. */
  usagePercent: number | null;
}

/** Every `<vendor>/gpu` resource of a node summed (`nvidia.com/gpu`, `amd.com/gpu`); undefined with none. */
export function gpuFigures(resources: NodeResources): ResourceFigures | undefined {
  let sum: ResourceFigures | undefined;
  for (const [name, figures] of Object.entries(resources)) {
    if (!name.endsWith('/gpu')) continue;
    sum ??= { allocatable: 0, requests: 0, limits: 0 };
    sum.allocatable += figures.allocatable;
    sum.requests += figures.requests;
    sum.limits += figures.limits;
  }
  return sum;
}

/** The bar of `resource` for a node's resources; undefined when the node has no such resource. */
export function resourceBar(resources: NodeResources, resource: BarResource): ResourceBar | undefined {
  const figures = resource === 'gpu' ? gpuFigures(resources) : resources[resource];
  if (!figures) return undefined;
  return {
    figures,
    requestsPercent: resourcePercent(figures, 'requests'),
    limitsPercent: resourcePercent(figures, 'limits'),
    usagePercent: resourcePercent(figures, 'usage'),
  };
}

/** An amount of `resource` in its display unit (cores, GiB, a count). */
export function formatAmount(resource: BarResource, amount: number): string {
  if (resource === 'cpu') return `${formatCores(amount / 1000)} cores`;
  if (resource === 'memory') return formatBytes(amount);
  return String(amount);
}

const percent = (value: number | null): string => (value === null ? '' : ` (${Math.round(value)}%)`);

/** Names as the bars' tooltips and the overview say them. */
export const RESOURCE_LABELS: Record<BarResource, string> = {
  pods: 'Pods',
  cpu: 'CPU',
  memory: 'Memory',
  gpu: 'GPU',
};

/**
 * The tooltip of a bar: requests, limits and usage against allocatable, or why
 * usage is missing (`usageNote`: the metrics poll's reason, or "not measured").
 */
export function barTitle(resource: BarResource, bar: ResourceBar | undefined, usageNote: string): string {
  if (!bar) return `${RESOURCE_LABELS[resource]}: none on this node`;
  const { figures } = bar;
  const lines = [
    `${RESOURCE_LABELS[resource]}: ${formatAmount(resource, figures.allocatable)} allocatable`,
    `requests ${formatAmount(resource, figures.requests)}${percent(bar.requestsPercent)}`,
    `limits ${formatAmount(resource, figures.limits)}${percent(bar.limitsPercent)}`,
  ];
  if (resource === 'cpu' || resource === 'memory') {
    lines.push(
      figures.usage === undefined
        ? `usage ${usageNote}`
        : `usage ${formatAmount(resource, figures.usage)}${percent(bar.usagePercent)}`,
    );
  }
  return lines.join('\n');
}
