import { Inject, Injectable } from '@nestjs/common';
import {
  FLEET_DEFAULT_LIMIT,
  clustersAllow,
  toNodeView,
  usageStatus,
  type ClusterName,
  type ClusterResourcesResponse,
  type ClusterSummaryBody,
  type FleetCluster,
  type FleetNodeListResponse,
  type NodeListQuery,
  type NodeListResponse,
  type NodePodsList,
  type NodeResponse,
  type PodCountsResponse,
} from '@knm/contracts';
import type { Principal } from '@knm/auth';
import type { ClusterSnapshot, NodePodsClient, NodeStoreReader } from '@knm/node-store';
import {
  compileNodeQuery,
  queryFleet,
  queryNodes,
  resourceRollup,
  sumResourceTotals,
  type CompiledNodeQuery,
  type FleetMember,
} from '@knm/node-query';
import { NODE_PODS_CLIENT, NODE_STORE_READER } from '../common/injection-tokens.js';
import { NotFoundError, UpstreamError } from '../common/error-body.js';
import { FleetBodyCache } from './fleet-body-cache.js';
import { ResponseCache } from './response-cache.js';
import { SnapshotCache } from './snapshot-cache.js';
import { SortedMatchesCache } from './sorted-matches-cache.js';

/** Content type of the pre-serialized JSON bodies the controllers send. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Bytes of serialized fleet-list bodies a gateway keeps (a page of 500 nodes is ~1 MB). */
const FLEET_BODY_CACHE_BYTES = 32 * 1024 * 1024;

/** What the fleet list's compiled query is tied to instead of a cluster (no cluster is named `*`). */
const FLEET_SCOPE = '*';

/** Bytes of serialized node-list bodies a gateway keeps (a 5,000-node list is ~10 MB). */
const RESPONSE_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * The REST read side: every answer comes from Redis through node-store's reader
 * (atomic reads, so the `seq` returned always matches the data). Node lists and pod
 * counts go through a {@link SnapshotCache}: never older than the cluster's seq when
 * the request arrived. Serialized node-list bodies are kept per snapshot and query in
 * a {@link ResponseCache}, so the same list at the same seq is serialized once.
 */
@Injectable()
export class ClusterDataService {
  private readonly cache: SnapshotCache;
  private readonly bodies = new ResponseCache(RESPONSE_CACHE_BYTES);
  /** The rollup of each snapshot still cached: summing every node's resources once per seq, not per request. */
  private readonly rollups = new WeakMap<ClusterSnapshot, ClusterResourcesResponse>();
  private readonly matches = new SortedMatchesCache();
  private readonly fleetBodies = new FleetBodyCache(FLEET_BODY_CACHE_BYTES);

  constructor(
    @Inject(NODE_STORE_READER) private readonly reader: NodeStoreReader,
    @Inject(NODE_PODS_CLIENT) private readonly pods: NodePodsClient,
  ) {
    this.cache = new SnapshotCache(reader);
  }

  /** The registered clusters the principal's token covers, by name. */
  async listClusters(principal: Principal): Promise<ClusterSummaryBody[]> {
    const all = await this.reader.listClusters();
    return all
      .filter((c) => clustersAllow(principal.clusters, c.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((c) => ({ ...c }) as ClusterSummaryBody);
  }

  /** One cluster's summary; {@link NotFoundError} when it is not registered. */
  async getCluster(cluster: ClusterName): Promise<ClusterSummaryBody> {
    const summary = await this.reader.getCluster(cluster);
    if (!summary) throw unknownCluster(cluster);
    return { ...summary } as ClusterSummaryBody;
  }

  /**
   * One page of the cluster's nodes matching `query`, as the JSON body of a
   * {@link NodeListResponse}: serialized once per snapshot and query (the same list
   * at the same seq is served from the {@link ResponseCache}). With `maxStaleMs`
   * (the caller's `Cache-Control: max-stale`), the newest body of that query is
   * answered when it is at most that old and of the cluster's current epoch, even if
   * the cluster moved on: its `seq` says where the caller must resume from.
   */
  async listNodesBody(cluster: ClusterName, query: NodeListQuery, maxStaleMs = 0): Promise<Buffer> {
    const compiled = compileNodeQuery(query, cluster);
    const key = JSON.stringify(query);
    const summary = await this.getCluster(cluster);
    if (maxStaleMs > 0) {
      const recent = this.bodies.recent(cluster, summary.epoch, key, maxStaleMs);
      if (recent) return recent.body;
    }
    const snapshot = await this.cache.get(cluster, summary);
    const cached = this.bodies.get(cluster, snapshot.epoch, snapshot.seq, key);
    if (cached) return cached;
    const body = Buffer.from(JSON.stringify(nodeListResponse(cluster, snapshot, compiled)));
    this.bodies.set(cluster, snapshot.epoch, snapshot.seq, key, body);
    return body;
  }

  /** One node with its pod count and resources; {@link NotFoundError} when the cluster or the node is unknown. */
  async getNode(cluster: ClusterName, name: string): Promise<NodeResponse> {
    const found = await this.reader.getNode(cluster, name);
    if (!found) {
      await this.getCluster(cluster);
      throw new NotFoundError(`node "${name}" is not in cluster "${cluster}"`);
    }
    const usage = found.usage?.available ? found.usage.nodes[name] : undefined;
    const response: NodeResponse = {
      cluster,
      seq: found.seq,
      node: toNodeView(found.node, found.podCount, found.allocation, usage),
    };
    if (found.usage) response.usage = usageStatus(found.usage);
    return response;
  }

  /** The cluster's resources summed: in all, by zone and by node pool (from the same snapshot as node lists). */
  async resources(cluster: ClusterName): Promise<ClusterResourcesResponse> {
    const summary = await this.getCluster(cluster);
    return this.rollupOf(cluster, await this.cache.get(cluster, summary));
  }

  /**
   * One page of the nodes of every cluster the principal's token covers (`GET
   * /api/v1/nodes` without `cluster_name`), merged in the query's order, with each
   * cluster's status and counts and the fleet's resources summed, as the JSON body of
   * a {@link FleetNodeListResponse}. Each cluster is read through the same snapshot
   * cache as its own list; one that cannot be read is listed in `clusters` with its
   * error and contributes no node, so one broken cluster never fails the fleet. The
   * body is serialized once per query and states of the clusters it covers.
   */
  async listFleetNodesBody(principal: Principal, query: NodeListQuery): Promise<Buffer> {
    const compiled = compileNodeQuery(query, FLEET_SCOPE);
    const summaries = await this.listClusters(principal);
    const read = await Promise.all(summaries.map((summary) => this.readFleetCluster(summary)));
    const key = FleetBodyCache.keyOf(
      JSON.stringify(query),
      read.map((r) => r.cluster),
    );
    const cached = this.fleetBodies.get(key);
    if (cached) return cached;
    const members: FleetMember[] = [];
    for (const { cluster, snapshot } of read) {
      if (!snapshot) continue;
      const matches = this.matches.get(snapshot, compiled);
      cluster.matching = matches.length;
      members.push({ cluster: cluster.name, epoch: snapshot.epoch, seq: snapshot.seq, matches });
    }
    const page = queryFleet(members, compiled, query.limit ?? FLEET_DEFAULT_LIMIT);
    const response: FleetNodeListResponse = {
      total: page.total,
      items: page.items,
      clusters: read.map((r) => r.cluster),
      totals: sumResourceTotals(
        read.flatMap(({ cluster, snapshot }) =>
          snapshot ? [this.rollupOf(cluster.name, snapshot).totals] : [],
        ),
      ),
    };
    if (page.continue !== undefined) response.continue = page.continue;
    const body = Buffer.from(JSON.stringify(response));
    this.fleetBodies.set(key, body);
    return body;
  }

  /** One cluster of the fleet list: its snapshot (fresh as of `summary`), or why it could not be read. */
  private async readFleetCluster(
    summary: ClusterSummaryBody,
  ): Promise<{ cluster: FleetCluster; snapshot: ClusterSnapshot | undefined }> {
    const cluster: FleetCluster = {
      name: summary.name,
      status: summary.status,
      epoch: summary.epoch,
      seq: summary.seq,
      nodes: 0,
      matching: 0,
    };
    try {
      const snapshot = await this.cache.get(summary.name, summary);
      cluster.epoch = snapshot.epoch;
      cluster.seq = snapshot.seq;
      cluster.nodes = snapshot.nodes.length;
      return { cluster, snapshot };
    } catch (err) {
      cluster.error = `could not be read: ${(err as Error).message}`;
      return { cluster, snapshot: undefined };
    }
  }

  /** The snapshot's rollup, summed once per snapshot. */
  private rollupOf(cluster: ClusterName, snapshot: ClusterSnapshot): ClusterResourcesResponse {
    let rollup = this.rollups.get(snapshot);
    if (!rollup) {
      rollup = { cluster, ...resourceRollup(snapshot) };
      this.rollups.set(snapshot, rollup);
    }
    return rollup;
  }

  /**
   * The pods behind a node's numbers, from the cluster's leading watcher (through
   * Redis; a stored answer up to a few seconds old as it wrote it). The watcher's
   * failures and the relay's (nobody leads: 503; no answer in time: 504) are
   * {@link UpstreamError}s with their status and message.
   */
  async nodePods(cluster: ClusterName, node: string): Promise<NodePodsList> {
    await this.getCluster(cluster);
    const answer = await this.pods.get(cluster, node);
    if (answer.ok) return answer;
    const status = answer.status;
    if (status === 404 || status === 502 || status === 503 || status === 504) {
      throw new UpstreamError(status, answer.message);
    }
    throw new UpstreamError(502, `the watcher answered ${status}: ${answer.message}`);
  }

  /** Every node's pod count and their sum. */
  async podCounts(cluster: ClusterName): Promise<PodCountsResponse> {
    const summary = await this.getCluster(cluster);
    const { seq, podCounts: counts } = await this.cache.get(cluster, summary);
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    return { cluster, seq, total, counts };
  }
}

function nodeListResponse(
  cluster: ClusterName,
  snapshot: ClusterSnapshot,
  compiled: CompiledNodeQuery,
): NodeListResponse {
  const page = queryNodes(snapshot, compiled);
  const response: NodeListResponse = {
    cluster,
    seq: snapshot.seq,
    epoch: snapshot.epoch,
    total: page.total,
    items: page.items,
  };
  if (page.continue !== undefined) response.continue = page.continue;
  if (snapshot.usage) response.usage = usageStatus(snapshot.usage);
  return response;
}

function unknownCluster(cluster: string): NotFoundError {
  return new NotFoundError(
    `cluster "${cluster}" is not registered (GET /api/v1/clusters lists the known ones)`,
  );
}
