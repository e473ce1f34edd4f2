import { nodeResourceFigures, type ResourceFigures } from '@knm/contracts';
import { compareKeys, sortKeyOf, type SortKey, type SortSubject } from './node-sort.js';
import { ownEntry } from './own-entry.js';
import type { CompiledNodeQuery, NodeQueryInput } from './query-nodes.js';
import { matchesResourceFilter } from './resource-filter.js';

/** A node that matches a query, with its figures and its (sort key, name). */
export interface KeyedNode {
  subject: SortSubject;
  key: [SortKey, string];
}

/**
 * Every node of `input` that matches `compiled`, sorted in the query's order (ties by
 * name, in the same direction). Pure. The per-cluster list pages this; the fleet list
 * merges one of these per cluster, which a caller may keep per snapshot and query.
 */
export function sortedMatches(input: NodeQueryInput, compiled: CompiledNodeQuery): KeyedNode[] {
  const { order, resourceFilters } = compiled;
  const usage = input.usage?.available ? input.usage.nodes : undefined;
  const keyed: KeyedNode[] = [];
  for (const node of input.nodes) {
    if (!compiled.matches(node)) continue;
    const subject: SortSubject = {
      node,
      podCount: ownEntry(input.podCounts, node.name) ?? 0,
      allocation: ownEntry(input.allocation, node.name),
      usage: ownEntry(usage, node.name),
    };
    if (!resourceFilters.every((f) => matchesResourceFilter(figuresOf(subject, f.resource), f))) continue;
    keyed.push({ subject, key: [sortKeyOf(subject, order), node.name] });
  }
  const direction = order.direction;
  keyed.sort((a, b) => direction * compareKeys(a.key, b.key));
  return keyed;
}

/** The subject's figures of one resource (what a `resource` filter item reads). */
function figuresOf(subject: SortSubject, resource: string): ResourceFigures | undefined {
  return nodeResourceFigures(subject.node, subject.podCount, subject.allocation, subject.usage, resource);
}
