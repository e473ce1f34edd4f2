import { Inject, Injectable } from '@nestjs/common';
import {
  clustersAllow,
  mttrOf,
  type ClusterName,
  type HistoryPage,
  type HistoryQuery,
  type Incident,
  type IncidentsQuery,
  type IncidentsResponse,
  type MttrQuery,
  type MttrResponse,
} from '@knm/contracts';
import { assertClusterAccess, type Principal } from '@knm/auth';
import type { HistoryReader, NodeStoreReader } from '@knm/node-store';
import { NotFoundError } from '../common/error-body.js';
import { HISTORY_READER, NODE_STORE_READER } from '../common/injection-tokens.js';

/** The MTTR period when a request names none: the last 7 days. */
const DEFAULT_MTTR_PERIOD_MS = 7 * 86_400_000;

/**
 * Node history and incidents, read from what the leading watchers wrote. A cluster
 * outside the token is 403 (checked before anything is read); an unregistered one
 * 404, as the node routes answer.
 */
@Injectable()
export class HistoryService {
  constructor(
    @Inject(HISTORY_READER) private readonly history: HistoryReader,
    @Inject(NODE_STORE_READER) private readonly reader: NodeStoreReader,
  ) {}

  /** One page of a node's history, newest first. A node that is gone still has its history. */
  async nodeHistory(cluster: ClusterName, node: string, query: HistoryQuery): Promise<HistoryPage> {
    await this.assertRegistered(cluster);
    const page = await this.history.nodeHistory(cluster, node, query);
    return { cluster, node, ...page };
  }

  /** Incidents of one cluster, or of every registered cluster the token covers, newest start first. */
  async incidents(principal: Principal, query: IncidentsQuery): Promise<IncidentsResponse> {
    const filter = {
      ...(query.open === undefined ? {} : { open: query.open }),
      ...(query.since === undefined ? {} : { sinceMs: Date.parse(query.since) }),
    };
    const all = await this.readAll(principal, query.cluster, (c) => this.history.incidents(c, filter));
    all.sort((a, b) => Date.parse(b.start) - Date.parse(a.start) || a.id.localeCompare(b.id));
    return { items: all.slice(0, query.limit), truncated: all.length > query.limit };
  }

  /** Mean time to recovery per cluster and pool over [since, until]. */
  async mttr(principal: Principal, query: MttrQuery, now: Date = new Date()): Promise<MttrResponse> {
    const until = query.until ?? now.toISOString();
    const since = query.since ?? new Date(Date.parse(until) - DEFAULT_MTTR_PERIOD_MS).toISOString();
    const sinceMs = Date.parse(since);
    const all = await this.readAll(principal, query.cluster, (c) =>
      this.history.incidents(c, { open: false, sinceMs }),
    );
    return { since, until, clusters: mttrOf(all, since, until) };
  }

  private async readAll(
    principal: Principal,
    cluster: ClusterName | undefined,
    read: (cluster: ClusterName) => Promise<Incident[]>,
  ): Promise<Incident[]> {
    let clusters: ClusterName[];
    if (cluster !== undefined) {
      assertClusterAccess(principal, cluster);
      await this.assertRegistered(cluster);
      clusters = [cluster];
    } else {
      clusters = (await this.reader.listClusters())
        .map((c) => c.name)
        .filter((c) => clustersAllow(principal.clusters, c));
    }
    return (await Promise.all(clusters.map(read))).flat();
  }

  private async assertRegistered(cluster: ClusterName): Promise<void> {
    if (!(await this.reader.getCluster(cluster))) {
      throw new NotFoundError(
        `cluster "${cluster}" is not registered (GET /api/v1/clusters lists the known ones)`,
      );
    }
  }
}
