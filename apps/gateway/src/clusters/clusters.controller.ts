import { Controller, Get, Headers, Inject, Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  clustersAllow,
  ClusterNameSchema,
  NodeListQuerySchema,
  NodeNameSchema,
  type ClusterListResponse,
  type ClusterName,
  type NodeListQuery,
  type NodePodsList,
} from '@knm/contracts';
import type { Principal } from '@knm/auth';
import { CurrentPrincipal } from '../auth/request-principal.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { ClusterRegistry } from '../registry/cluster-registry.js';
import { withRegistered } from '../registry/with-registered.js';
import { sendAnswer } from './answer-reply.js';
import { readConditions } from './cached-answers.js';
import { ClusterDataService } from './cluster-data.service.js';

/** Longest staleness a client may accept for a node list (`Cache-Control: max-stale`, seconds). */
const MAX_STALE_MS = 1_000;

/**
 * The staleness a request accepts: `max-stale=N` (seconds), capped at
 * {@link MAX_STALE_MS}; a bare `max-stale` means the cap; none means a fresh answer.
 */
export function maxStaleMs(cacheControl: string | undefined): number {
  const match = /(?:^|,)\s*max-stale(?:\s*=\s*"?(\d+)"?)?\s*(?:,|$)/i.exec(cacheControl ?? '');
  if (!match) return 0;
  return match[1] === undefined ? MAX_STALE_MS : Math.min(MAX_STALE_MS, Number(match[1]) * 1000);
}

const clusterParam = new ZodPipe(ClusterNameSchema, 'cluster name in the path');
const nodeQuery = new ZodPipe(NodeListQuerySchema, 'node list query');
const nodeParam = new ZodPipe(NodeNameSchema, 'node name in the path');

/**
 * `/api/v1/clusters/...`: clusters, their nodes (filtered, sorted, paged), pod
 * counts, resources summed, and the pods behind a node's numbers. Node lists, a
 * node, pod counts and resources are cached answers: `ETag` and `If-None-Match`
 * (304), `Accept-Encoding` (br, gzip), sent on the reply directly (the guard has
 * checked the token's scope before any of them runs).
 */
@Controller('api/v1/clusters')
export class ClustersController {
  constructor(
    @Inject(ClusterDataService) private readonly data: ClusterDataService,
    @Inject(ClusterRegistry) private readonly registry: ClusterRegistry,
  ) {}

  @Get()
  async list(@CurrentPrincipal() principal: Principal): Promise<ClusterListResponse> {
    const [watched, registered] = await Promise.all([
      this.data.listClusters(principal),
      this.registry.registered(),
    ]);
    return {
      items: withRegistered(
        watched,
        registered.filter((r) => clustersAllow(principal.clusters, r.name)),
      ),
    };
  }

  @Get(':cluster/nodes')
  async nodes(
    @Param('cluster', clusterParam) cluster: ClusterName,
    @Query(nodeQuery) query: NodeListQuery,
    @Headers('cache-control') cacheControl: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const answer = await this.data.listNodes(
      cluster,
      query,
      readConditions(request.headers),
      maxStaleMs(cacheControl),
    );
    await sendAnswer(reply, answer);
  }

  @Get(':cluster/nodes/:node')
  async node(
    @Param('cluster', clusterParam) cluster: ClusterName,
    @Param('node') node: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await sendAnswer(reply, await this.data.getNode(cluster, node, readConditions(request.headers)));
  }

  @Get(':cluster/nodes/:node/pods')
  nodePods(
    @Param('cluster', clusterParam) cluster: ClusterName,
    @Param('node', nodeParam) node: string,
  ): Promise<NodePodsList> {
    return this.data.nodePods(cluster, node);
  }

  @Get(':cluster/resources')
  async resources(
    @Param('cluster', clusterParam) cluster: ClusterName,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await sendAnswer(reply, await this.data.resources(cluster, readConditions(request.headers)));
  }

  @Get(':cluster/pod-counts')
  async podCounts(
    @Param('cluster', clusterParam) cluster: ClusterName,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await sendAnswer(reply, await this.data.podCounts(cluster, readConditions(request.headers)));
  }
}
