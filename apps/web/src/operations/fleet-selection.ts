/** One node of the fleet, named by its cluster (node names repeat across clusters). */
export interface FleetNodeRef {
  cluster: string;
  node: string;
}

/** The nodes of one cluster an operation across clusters acts on. */
export interface ClusterNodes {
  cluster: string;
  /** Sorted, without repeats. */
  nodes: string[];
}

/**
 * The selection key of a fleet row. Cluster names are DNS labels and node names DNS
 * subdomains, so neither holds a `/` and the key splits back unambiguously.
 */
export function fleetNodeKey(ref: FleetNodeRef): string {
  return `${ref.cluster}/${ref.node}`;
}

/** The node a selection key names, or undefined for a string that is not one. */
export function parseFleetNodeKey(key: string): FleetNodeRef | undefined {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1 || key.indexOf('/', slash + 1) >= 0) return undefined;
  return { cluster: key.slice(0, slash), node: key.slice(slash + 1) };
}

/**
 * Groups selected nodes by cluster: one group per cluster (the unit an operation
 * runs on underneath), clusters and their nodes in code-point order, a node selected
 * twice counted once.
 */
export function groupByCluster(selection: Iterable<FleetNodeRef>): ClusterNodes[] {
  const byCluster = new Map<string, Set<string>>();
  for (const { cluster, node } of selection) {
    let nodes = byCluster.get(cluster);
    if (!nodes) byCluster.set(cluster, (nodes = new Set()));
    nodes.add(node);
  }
  return [...byCluster.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([cluster, nodes]) => ({ cluster, nodes: [...nodes].sort() }));
}

/** {@link groupByCluster} over selection keys; a malformed key is ignored. */
export function groupKeysByCluster(keys: Iterable<string>): ClusterNodes[] {
  const refs: FleetNodeRef[] = [];
  for (const key of keys) {
    const ref = parseFleetNodeKey(key);
    if (ref) refs.push(ref);
  }
  return groupByCluster(refs);
}
