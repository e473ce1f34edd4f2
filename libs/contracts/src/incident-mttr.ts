import type { ClusterName } from './cluster-name.js';
import type { Incident, MttrFigure, MttrResponse } from './incidents.js';

/**
 * Mean time to recovery per cluster and per node pool of the closed incidents that
 * ended within [since, until] (RFC 3339). Open incidents have no recovery yet and do
 * not count. Clusters and pools are sorted by name.
 */
export function mttrOf(
  incidents: readonly Incident[],
  since: string,
  until: string,
): MttrResponse['clusters'] {
  const from = Date.parse(since);
  const to = Date.parse(until);
  const byCluster = new Map<ClusterName, { all: number[]; pools: Map<string, number[]> }>();
  for (const incident of incidents) {
    if (incident.end === undefined || incident.durationMs === undefined) continue;
    const end = Date.parse(incident.end);
    if (end < from || end > to) continue;
    let cluster = byCluster.get(incident.cluster);
    if (!cluster) byCluster.set(incident.cluster, (cluster = { all: [], pools: new Map() }));
    cluster.all.push(incident.durationMs);
    const pool = cluster.pools.get(incident.pool) ?? [];
    pool.push(incident.durationMs);
    cluster.pools.set(incident.pool, pool);
  }
  return [...byCluster.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([cluster, { all, pools }]) => ({
      cluster,
      ...figure(all),
      pools: [...pools.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([pool, d]) => ({ pool, ...figure(d) })),
    }));
}

function figure(durations: readonly number[]): MttrFigure {
  if (durations.length === 0) return { incidents: 0 };
  return { incidents: durations.length, mttrMs: durations.reduce((a, b) => a + b, 0) / durations.length };
}
