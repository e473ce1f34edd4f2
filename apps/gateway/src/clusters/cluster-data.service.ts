import { Inject, Injectable } from '@nestjs/common';
import {
  clustersAllow,
  type ClusterName,
  type ClusterSummaryBody,
  type NodeListQuery,
  type NodeListResponse,
  type NodeResponse,
  type PodCountsResponse,
} from '@knm/contracts';
import type { Principal } from '@knm/auth';
import type { NodeStoreReader } from '@knm/node-store';
import { compileNodeQuery, queryNodes, toNodeView } from '@knm/node-query';
import { NODE_STORE_READER } from '../app/tokens.js';
import { NotFoundError } from '../common/error-body.js';
import { SnapshotCache } from './snapshot-cache.js';

/**
 * The REST read side: every answer comes from Redis through node-store's reader
 * (atomic reads, so the `seq` returned always matches the data). Node lists and pod
 * counts go through a {@link SnapshotCache}: never older than the cluster's seq when
 * the request arrived.
 */
@Injectable()
export class ClusterDataService {
  private readonly cache: SnapshotCache;

  constructor(@Inject(NODE_STORE_READER) private readonly reader: NodeStoreReader) {
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

  /** One page of the cluster's nodes matching `query`. */
  async listNodes(cluster: ClusterName, query: NodeListQuery): Promise<NodeListResponse> {
    const compiled = compileNodeQuery(query);
    const summary = await this.getCluster(cluster);
    const snapshot = await this.cache.get(cluster, summary);
    const page = queryNodes(snapshot, compiled);
    const response: NodeListResponse = {
      cluster,
      seq: snapshot.seq,
      epoch: snapshot.epoch,
      total: page.total,
      items: page.items,
    };
    if (page.continue !== undefined) response.continue = page.continue;
    return response;
  }

  /** One node with its pod count; {@link NotFoundError} when the cluster or the node is unknown. */
  async getNode(cluster: ClusterName, name: string): Promise<NodeResponse> {
    const found = await this.reader.getNode(cluster, name);
    if (!found) {
      await this.getCluster(cluster);
      throw new NotFoundError(`node "${name}" is not in cluster "${cluster}"`);
    }
    return { cluster, seq: found.seq, node: toNodeView(found.node, found.podCount) };
  }

  /** Every node's pod count and their sum. */
  async podCounts(cluster: ClusterName): Promise<PodCountsResponse> {
    const summary = await this.getCluster(cluster);
    const { seq, podCounts: counts } = await this.cache.get(cluster, summary);
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    return { cluster, seq, total, counts };
  }
}

function unknownCluster(cluster: string): NotFoundError {
  return new NotFoundError(
    `cluster "${cluster}" is not registered (GET /api/v1/clusters lists the known ones)`,
  );
}
