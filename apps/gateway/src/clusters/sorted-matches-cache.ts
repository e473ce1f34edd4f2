import type { ClusterSnapshot } from '@knm/node-store';
import { sortedMatches, type CompiledNodeQuery, type KeyedNode } from '@knm/node-query';

/** Queries whose sorted matches are kept per snapshot (a dashboard asks few; `q` may make many). */
const QUERIES_PER_SNAPSHOT = 16;

/**
 * Each cluster snapshot's matches of a query, filtered and sorted once: the fleet
 * list merges one list per cluster, and under churn only the clusters whose seq moved
 * are filtered and sorted again (each cached snapshot is replaced by the next, and
 * its lists go with it: a WeakMap). Keyed by the query's filters and sort as written,
 * not its 32-bit fingerprint, which may collide.
 */
export class SortedMatchesCache {
  private readonly bySnapshot = new WeakMap<ClusterSnapshot, Map<string, KeyedNode[]>>();

  /** The snapshot's matches of `compiled`, sorted in its order. */
  get(snapshot: ClusterSnapshot, compiled: CompiledNodeQuery): KeyedNode[] {
    const { limit: _limit, continue: _continue, ...filters } = compiled.query;
    const key = JSON.stringify(filters);
    let lists = this.bySnapshot.get(snapshot);
    if (!lists) {
      lists = new Map();
      this.bySnapshot.set(snapshot, lists);
    }
    const cached = lists.get(key);
    if (cached) {
      // Most recently used last.
      lists.delete(key);
      lists.set(key, cached);
      return cached;
    }
    const matches = sortedMatches(snapshot, compiled);
    lists.set(key, matches);
    for (const oldest of lists.keys()) {
      if (lists.size <= QUERIES_PER_SNAPSHOT) break;
      lists.delete(oldest);
    }
    return matches;
  }
}
