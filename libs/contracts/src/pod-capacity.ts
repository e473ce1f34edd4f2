import type { NodeSnapshot } from './node-snapshot.js';

/**
 * A node's `status.capacity.pods` as a number (a NodeView's `podCapacity`):
 * Kubernetes writes it as a plain integer (`"110"`), occasionally with a decimal SI
 * suffix (`"1k"`). Null when absent or unreadable. Shared by the gateway and the
 * SDK, so a node reads the same from REST and from a live view.
 */
export function podCapacityOf(node: NodeSnapshot): number | null {
  const raw = node.capacity['pods'];
  if (raw === undefined) return null;
  const match = /^(\d+)(k|M)?$/.exec(raw.trim());
  if (!match) return null;
  const factor = match[2] === 'k' ? 1_000 : match[2] === 'M' ? 1_000_000 : 1;
  return Number(match[1]) * factor;
}
