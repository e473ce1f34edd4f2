import { NODE_ROLE_LABEL_PREFIX, type NodeView, type Taint } from '@knm/contracts';
import { parseQuantity } from './quantity.js';
import { BAR_RESOURCES, resourceBar, type BarResource, type ResourceBar } from './resource-bar.js';

/** The label holding a node's zone (the beta label is the fallback on old clusters). */
export const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'] as const;

/**
 * Labels shown as columns or implied by them, left out of the label chips so the
 * chips show what is particular to a node.
 */
const CHIP_HIDDEN_LABEL =
  /^(kubernetes\.io\/(hostname|os|arch)|node\.kubernetes\.io\/instance-type$|beta\.kubernetes\.io\/|topology\.kubernetes\.io\/|failure-domain\.beta\.kubernetes\.io\/|node-role\.kubernetes\.io\/)/;

/** A node's headline status as the table shows it. */
export type NodeStatus = 'Ready' | 'NotReady' | 'Unknown';

/**
 * One row of the node table: the node as received plus everything derived for
 * display, sorting and filtering, computed once per change (not per render).
 */
export interface NodeRow {
  name: string;
  node: NodeView;
  status: NodeStatus;
  /** `spec.unschedulable` (cordoned): shown as SchedulingDisabled. */
  cordoned: boolean;
  roles: string[];
  pods: number;
  podCapacity: number | null;
  /** Allocatable cores. */
  cpu: number | undefined;
  /** Allocatable bytes. */
  memory: number | undefined;
  /** Allocatable GPUs (every `<vendor>/gpu` resource summed). */
  gpus: number;
  /** Pods, CPU, memory and GPUs: requests, limits and usage against allocatable (undefined: none on the node). */
  bars: Record<BarResource, ResourceBar | undefined>;
  version: string;
  zone: string;
  /** Creation time, ms since the epoch (NaN when unparseable). */
  createdAt: number;
  /** `key=value` of the labels worth a chip. */
  labelChips: string[];
  /** `key[=value]:Effect` of every taint. */
  taintChips: string[];
  /** Lowercased text the search box matches against. */
  searchText: string;
}

/** `key[=value]:Effect`, as kubectl writes a taint. */
export function formatTaint(taint: Taint): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
}

/** Builds the table row of `node`. */
export function toNodeRow(node: NodeView): NodeRow {
  const status: NodeStatus =
    node.ready === 'True' ? 'Ready' : node.ready === 'False' ? 'NotReady' : 'Unknown';
  let gpus = 0;
  for (const [resource, quantity] of Object.entries(node.allocatable)) {
    if (resource.endsWith('/gpu')) gpus += parseQuantity(quantity) ?? 0;
  }
  const zone = ZONE_LABELS.map((l) => node.labels[l]).find((z) => z !== undefined) ?? '';
  const labelChips = Object.entries(node.labels)
    .filter(([k]) => !CHIP_HIDDEN_LABEL.test(k))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .sort();
  const taintChips = node.taints.map(formatTaint);
  const roles =
    node.roles.length > 0
      ? node.roles
      : Object.keys(node.labels)
          .filter((k) => k.startsWith(NODE_ROLE_LABEL_PREFIX))
          .map((k) => k.slice(NODE_ROLE_LABEL_PREFIX.length));
  const searchText = [
    node.name,
    ...roles,
    zone,
    node.nodeInfo.kubeletVersion,
    ...Object.entries(node.labels).map(([k, v]) => `${k}=${v}`),
    ...taintChips,
    ...node.addresses.map((a) => a.address),
  ]
    .join('\n')
    .toLowerCase();
  return {
    name: node.name,
    node,
    status,
    cordoned: node.unschedulable,
    roles,
    pods: node.podCount,
    podCapacity: node.podCapacity,
    cpu: parseQuantity(node.allocatable['cpu']),
    memory: parseQuantity(node.allocatable['memory']),
    gpus,
    bars: Object.fromEntries(BAR_RESOURCES.map((r) => [r, resourceBar(node.resources, r)])) as Record<
      BarResource,
      ResourceBar | undefined
    >,
    version: node.nodeInfo.kubeletVersion,
    zone,
    createdAt: Date.parse(node.creationTimestamp),
    labelChips,
    taintChips,
    searchText,
  };
}

/** A compact age like kubectl's (`45s`, `12m`, `5h`, `3d`, `2y`). */
export function formatAge(createdAt: number, now: number): string {
  if (Number.isNaN(createdAt)) return '–';
  const seconds = Math.max(0, Math.floor((now - createdAt) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  return days < 730 ? `${days}d` : `${Math.floor(days / 365)}y`;
}
