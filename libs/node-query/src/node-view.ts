import type { NodeSnapshot, NodeView } from '@knm/contracts';

/**
 * A quantity of pods as a number: Kubernetes writes `pods` as a plain integer
 * (`"110"`), occasionally with a decimal SI suffix (`"1k"`). Null when absent or
 * unreadable.
 */
export function podCapacityOf(node: NodeSnapshot): number | null {
  const raw = node.capacity['pods'];
  if (raw === undefined) return null;
  const match = /^(\d+)(k|M)?$/.exec(raw.trim());
  if (!match) return null;
  const factor = match[2] === 'k' ? 1_000 : match[2] === 'M' ? 1_000_000 : 1;
  return Number(match[1]) * factor;
}

/** The REST view of a node: its snapshot plus its pod count and pod capacity. */
export function toNodeView(node: NodeSnapshot, podCount: number): NodeView {
  return { ...node, podCount, podCapacity: podCapacityOf(node) };
}
