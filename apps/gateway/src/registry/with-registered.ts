import type { ClusterConnectionSummary, ClusterSummaryBody } from '@knm/contracts';

/**
 * The cluster list of `GET /api/v1/clusters`: the clusters watchers have written
 * (`knm:clusters`), each marked `registered` with its registration time when it was
 * registered at runtime, plus the registered ones no watcher has written yet
 * (`syncing`, seq 0), so a cluster appears as soon as it is registered. By name.
 */
export function withRegistered(
  watched: readonly ClusterSummaryBody[],
  registered: readonly ClusterConnectionSummary[],
): ClusterSummaryBody[] {
  const byName = new Map(registered.map((r) => [r.name as string, r]));
  const out: ClusterSummaryBody[] = watched.map((cluster) => {
    const entry = byName.get(cluster.name);
    if (!entry) return cluster;
    byName.delete(cluster.name);
    return {
      ...cluster,
      server: cluster.server ?? entry.server,
      registered: true,
      createdAt: entry.createdAt,
    };
  });
  for (const entry of byName.values()) {
    out.push({
      name: entry.name,
      seq: 0,
      epoch: 0,
      registeredAt: entry.createdAt,
      server: entry.server,
      status: 'syncing',
      registered: true,
      createdAt: entry.createdAt,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
