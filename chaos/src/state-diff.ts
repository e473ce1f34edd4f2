import { isDeepStrictEqual } from 'node:util';
import type { NodeAllocation, NodeSnapshot } from '@knm/contracts';

/**
 * What the verifier compares: node snapshots by name, pod counts of the nodes that
 * have pods, and the allocation (requests and limits) of the nodes whose pods take something.
 */
export interface ComparableState {
  nodes: Readonly<Record<string, NodeSnapshot>>;
  podCounts: Readonly<Record<string, number>>;
  allocation: Readonly<Record<string, NodeAllocation>>;
}

/** How one state differs from the truth. */
export interface StateDiff {
  /** Nodes missing, extra, or with a different snapshot (resourceVersion included). */
  nodes: string[];
  /** Nodes whose pod count differs (absent = 0). */
  podCounts: string[];
  /** Nodes whose requests or limits differ (absent = none). */
  allocation: string[];
}

/** The number of differences in `diff` (each wrong node or count is one lost or spurious event at least). */
export function diffSize(diff: StateDiff): number {
  return diff.nodes.length + diff.podCounts.length + diff.allocation.length;
}

/**
 * Compares `actual` with `truth` exactly: every node snapshot deep-equal, every pod
 * count equal (a count of 0 and an absent count are the same). Names are sorted.
 */
export function diffState(truth: ComparableState, actual: ComparableState): StateDiff {
  const nodes: string[] = [];
  for (const name of new Set([...Object.keys(truth.nodes), ...Object.keys(actual.nodes)])) {
    if (!isDeepStrictEqual(truth.nodes[name], actual.nodes[name])) nodes.push(name);
  }
  const podCounts: string[] = [];
  for (const name of new Set([...Object.keys(truth.podCounts), ...Object.keys(actual.podCounts)])) {
    if ((truth.podCounts[name] ?? 0) !== (actual.podCounts[name] ?? 0)) podCounts.push(name);
  }
  const allocation: string[] = [];
  for (const name of new Set([...Object.keys(truth.allocation), ...Object.keys(actual.allocation)])) {
    if (!isDeepStrictEqual(truth.allocation[name] ?? NONE, actual.allocation[name] ?? NONE))
      allocation.push(name);
  }
  return { nodes: nodes.sort(), podCounts: podCounts.sort(), allocation: allocation.sort() };
}

const NONE: NodeAllocation = { requests: {}, limits: {} };

/** A short human description of a diff (first `limit` entries of each kind), for logs and the report. */
export function describeDiff(
  truth: ComparableState,
  actual: ComparableState,
  diff: StateDiff,
  limit = 3,
): string {
  const parts: string[] = [];
  for (const name of diff.nodes.slice(0, limit)) {
    const t = truth.nodes[name];
    const a = actual.nodes[name];
    parts.push(
      `node ${name}: ${a ? `rv ${a.resourceVersion}` : 'missing'} vs truth ${t ? `rv ${t.resourceVersion}` : 'absent'}`,
    );
  }
  for (const name of diff.podCounts.slice(0, limit)) {
    parts.push(`pods ${name}: ${actual.podCounts[name] ?? 0} vs truth ${truth.podCounts[name] ?? 0}`);
  }
  for (const name of diff.allocation.slice(0, limit)) {
    parts.push(
      `allocation ${name}: ${JSON.stringify(actual.allocation[name] ?? NONE)} vs truth ${JSON.stringify(truth.allocation[name] ?? NONE)}`,
    );
  }
  const more = diffSize(diff) - parts.length;
  if (more > 0) parts.push(`${more} more`);
  return parts.join('; ');
}
