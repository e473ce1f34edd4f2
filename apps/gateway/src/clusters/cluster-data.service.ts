import { Inject, Injectable } from '@nestjs/common';
import {
  EMPTY_ALLOCATION,
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
  type NodeSnapshot,
  type PodCountsResponse,
} from '@knm/contracts';
import type { Principal } from '@knm/auth';
import type { ClusterPosition, ClusterSnapshot, NodePodsClient, NodeStoreReader } from '@knm/node-store';
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
import type { CachedAnswer } from './answer-reply.js';
import { BodyEncoder, MIN_COMPRESSED_BYTES } from './body-encoder.js';
import { CachedAnswers, type ProducedBody, type ReadConditions } from './cached-answers.js';
import { entityTag } from './entity-tag.js';
import { FleetBodyCache } from './fleet-body-cache.js';
import { PositionReads } from './position-reads.js';
import { ResponseCache } from './response-cache.js';
import { SnapshotCache } from './snapshot-cache.js';
import { SortedMatchesCache } from './sorted-matches-cache.js';

export { JSON_CONTENT_TYPE } from './json-content-type.js';

/** Bytes of serialized fleet-list bodies a gateway keeps (a page of 500 nodes is ~1 MB). */
const FLEET_BODY_CACHE_BYTES = 32 * 1024 * 1024;

/** What the fleet list's compiled query is tied to instead of a cluster (no cluster is named `*`). */
const FLEET_SCOPE = '*';

/** Bytes of serialized answers a gateway keeps, compressed ones included (a 5,000-node list is ~10 MB, ~1 MB gzipped). */
const RESPONSE_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * The REST read side: every answer comes from Redis through node-store's reader
 * (atomic reads, so the `seq` returned always matches the data). Node lists and pod
 * counts go through a {@link SnapshotCache}: never older than the cluster's seq when
 * the request arrived. Node lists, a node, pod counts and the rollup are
 * {@link CachedAnswers}: serialized once per cluster state and query, compressed once
 * per coding, revalidated by entity tag (a 304 costs one position read); the fleet
 * list's bodies are kept per query and covered clusters' states.
 */
@Injectable()
export class ClusterDataService {
  private readonly cache: SnapshotCache;
  private readonly positions: PositionReads;
  private readonly answers = new CachedAnswers(new ResponseCache(RESPONSE_CACHE_BYTES));
  /** Each cached snapshot's nodes by name, for single-node answers at a seq a list already read. */
  private readonly nodesByName = new WeakMap<ClusterSnapshot, Map<string, NodeSnapshot>>();
  /** The rollup of each snapshot still cached: summing every node's resources once per seq, not per request. */
  private readonly rollups = new WeakMap<ClusterSnapshot, ClusterResourcesResponse>();
  private readonly matches = new SortedMatchesCache();
  private readonly fleetBodies = new FleetBodyCache(FLEET_BODY_CACHE_BYTES);
  private readonly fleetEncoder = new BodyEncoder();
  /** Frozen (shared) node list queries, compiled per cluster ({@link compiledQuery}). */
  private readonly compiledQueries = new WeakMap<
    NodeListQuery,
    Map<ClusterName, { compiled: CompiledNodeQuery; key: string }>
  >();

  constructor(
    @Inject(NODE_STORE_READER) private readonly reader: NodeStoreReader,
    @Inject(NODE_PODS_CLIENT) private readonly pods: NodePodsClient,
  ) {
    this.cache = new SnapshotCache(reader);
    this.positions = new PositionReads(reader);
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
   * The cluster's position (seq, epoch, life): what every cached answer is checked
   * against; {@link NotFoundError} when the cluster is not registered.
   */
  private async position(cluster: ClusterName): Promise<ClusterPosition> {
    const at = await this.positions.get(cluster);
    if (!at) throw unknownCluster(cluster);
    return at;
  }

  /**
   * One page of the cluster's nodes matching `query`, as the JSON body of a
   * {@link NodeListResponse}: serialized once per snapshot and query, compressed once
   * per coding. With `maxStaleMs` (the caller's `Cache-Control: max-stale`), the
   * newest body of that query is answered when it is at most that old and of the
   * cluster's current life and epoch, even if the cluster moved on, else it is built
   * from the latest snapshot read at most that long ago (any query's): its `seq` says
   * where the caller must resume from.
   */
  async listNodes(
    cluster: ClusterName,
    query: NodeListQuery,
    conditions: ReadConditions,
    maxStaleMs = 0,
  ): Promise<CachedAnswer> {
    const { compiled, key } = this.compiledQuery(cluster, query);
    const at = await this.position(cluster);
    if (maxStaleMs > 0) {
      const recent = this.answers.bodies.recent(cluster, at, key, maxStaleMs);
      if (recent)
        return this.answers.answer(cluster, recent.at, key, conditions, () => Promise.resolve(recent));
    }
    return this.answers.answer(cluster, at, key, conditions, async () => {
      const snapshot = await this.cache.get(cluster, at, maxStaleMs);
      const snapshotAt = { ...at, epoch: snapshot.epoch, seq: snapshot.seq };
      const cached = this.answers.bodies.get(cluster, snapshotAt, key);
      return {
        at: snapshotAt,
        body: cached ?? Buffer.from(JSON.stringify(nodeListResponse(cluster, snapshot, compiled))),
      };
    });
  }

  /**
   * `query` compiled for `cluster` and its cache key; a 400 for a bad query. Kept per
   * query object: the cached routes decode a query string once and pass the same
   * frozen object with every request of it (compiling parsed its label selector and
   * hashed it at every request); other callers' fresh objects are compiled each time.
   */
  private compiledQuery(
    cluster: ClusterName,
    query: NodeListQuery,
  ): { compiled: CompiledNodeQuery; key: string } {
    let byCluster = this.compiledQueries.get(query);
    let known = byCluster?.get(cluster);
    if (!known) {
      known = { compiled: compileNodeQuery(query, cluster), key: `nodes\n${JSON.stringify(query)}` };
      if (Object.isFrozen(query)) {
        if (!byCluster) this.compiledQueries.set(query, (byCluster = new Map()));
        byCluster.set(cluster, known);
      }
    }
    return known;
  }

  /**
   * One node with its pod count and resources, cached per cluster state like a list;
   * {@link NotFoundError} when the cluster or the node is unknown. Built from the
   * cached snapshot when it is exactly at the cluster's position (no read of the
   * node), else read alone.
   */
  async getNode(cluster: ClusterName, name: string, conditions: ReadConditions): Promise<CachedAnswer> {
    const at = await this.position(cluster);
    return this.answers.answer(cluster, at, `node\n${name}`, conditions, () =>
      this.nodeBody(cluster, name, at),
    );
  }

  private async nodeBody(cluster: ClusterName, name: string, at: ClusterPosition): Promise<ProducedBody> {
    const snapshot = this.cache.peek(cluster, at);
    if (snapshot) {
      const node = this.nodesOf(snapshot).get(name);
      if (!node) throw unknownNode(cluster, name);
      const usage = snapshot.usage;
      const response: NodeResponse = {
        cluster,
        seq: snapshot.seq,
        node: toNodeView(
          node,
          snapshot.podCounts[name] ?? 0,
          snapshot.allocation[name] ?? EMPTY_ALLOCATION,
          usage?.available ? usage.nodes[name] : undefined,
        ),
      };
      if (usage) response.usage = usageStatus(usage);
      return { at, body: Buffer.from(JSON.stringify(response)) };
    }
    const found = await this.reader.getNode(cluster, name);
    if (!found) throw unknownNode(cluster, name);
    const usage = found.usage?.available ? found.usage.nodes[name] : undefined;
    const response: NodeResponse = {
      cluster,
      seq: found.seq,
      node: toNodeView(found.node, found.podCount, found.allocation, usage),
    };
    if (found.usage) response.usage = usageStatus(found.usage);
    // Read after the position: seq only grows within a life, so (epoch, found.seq) names this state alone.
    return { at: { ...at, seq: found.seq }, body: Buffer.from(JSON.stringify(response)) };
  }

  /** The snapshot's nodes by name, indexed once per snapshot. */
  private nodesOf(snapshot: ClusterSnapshot): Map<string, NodeSnapshot> {
    let byName = this.nodesByName.get(snapshot);
    if (!byName) {
      byName = new Map(snapshot.nodes.map((n) => [n.name, n]));
      this.nodesByName.set(snapshot, byName);
    }
    return byName;
  }

  /** The cluster's resources summed: in all, by zone and by node pool (from the same snapshot as node lists). */
  async resources(cluster: ClusterName, conditions: ReadConditions): Promise<CachedAnswer> {
    const at = await this.position(cluster);
    return this.answers.answer(cluster, at, 'resources', conditions, async () => {
      const snapshot = await this.cache.get(cluster, at);
      return {
        at: { ...at, epoch: snapshot.epoch, seq: snapshot.seq },
        body: Buffer.from(JSON.stringify(this.rollupOf(cluster, snapshot))),
      };
    });
  }

  /**
   * One page of the nodes of every cluster the principal's token covers (`GET
   * /api/v1/nodes` without `cluster_name`), merged in the query's order, with each
   * cluster's status and counts and the fleet's resources summed, as the JSON body of
   * a {@link FleetNodeListResponse}. Each cluster is read through the same snapshot
   * cache as its own list; one that cannot be read is listed in `clusters` with its
   * error and contributes no node, so one broken cluster never fails the fleet. The
   * body is serialized once per query and states of the clusters it covers (which
   * are the token's: another scope is another key and another tag), compressed once
   * per coding, and revalidated by entity tag once every covered cluster was read.
   */
  async listFleetNodes(
    principal: Principal,
    query: NodeListQuery,
    conditions: ReadConditions,
  ): Promise<CachedAnswer> {
    // Compiled first: a bad query or continue token is a 400 whatever is cached.
    const compiled = compileNodeQuery(query, FLEET_SCOPE);
    const summaries = await this.listClusters(principal);
    const read = await Promise.all(summaries.map((summary) => this.readFleetCluster(summary)));
    const key = FleetBodyCache.keyOf(
      JSON.stringify(query),
      read.map((r) => r.cluster),
    );
    const state = { label: 'fleet', hashed: `${key}\n${summaries.map((c) => c.registeredAt).join(',')}` };
    const current = this.answers.notModified(state, conditions);
    if (current) return current;
    const body = this.fleetBodies.get(key) ?? this.fleetBody(key, query, compiled, read);
    if (conditions.coding === 'identity' || body.length < MIN_COMPRESSED_BYTES) {
      return { status: 200, body, coding: 'identity', etag: entityTag(state, 'identity') };
    }
    const codedKey = `${key}\n${conditions.coding}`;
    let coded = this.fleetBodies.get(codedKey);
    if (!coded) {
      coded = await this.fleetEncoder.encode(key, body, conditions.coding);
      this.fleetBodies.set(codedKey, coded);
    }
    return { status: 200, body: coded, coding: conditions.coding, etag: entityTag(state, conditions.coding) };
  }

  /** The fleet page of `query` over the clusters `read`, serialized and cached under `key`. */
  private fleetBody(
    key: string,
    query: NodeListQuery,
    compiled: CompiledNodeQuery,
    read: readonly { cluster: FleetCluster; snapshot: ClusterSnapshot | undefined }[],
  ): Buffer {
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

  /** Every node's pod count and their sum, cached per cluster state like a list. */
  async podCounts(cluster: ClusterName, conditions: ReadConditions): Promise<CachedAnswer> {
    const at = await this.position(cluster);
    return this.answers.answer(cluster, at, 'pod-counts', conditions, async () => {
      const { seq, epoch, podCounts: counts } = await this.cache.get(cluster, at);
      let total = 0;
      for (const name in counts) total += counts[name] ?? 0;
      const response: PodCountsResponse = { cluster, seq, total, counts };
      return { at: { ...at, epoch, seq }, body: Buffer.from(JSON.stringify(response)) };
    });
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

function unknownNode(cluster: ClusterName, name: string): NotFoundError {
  return new NotFoundError(`node "${name}" is not in cluster "${cluster}"`);
}

function unknownCluster(cluster: string): NotFoundError {
  return new NotFoundError(
    `cluster "${cluster}" is not registered (GET /api/v1/clusters lists the known ones)`,
  );
}
