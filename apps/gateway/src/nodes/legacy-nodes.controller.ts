import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NodesRouteQuerySchema, type NodeListQuery } from '@knm/contracts';
import type { Principal } from '@knm/auth';
import type { z } from 'zod';
import { CurrentPrincipal } from '../auth/request-principal.js';
import { sendAnswer } from '../clusters/answer-reply.js';
import { readConditions } from '../clusters/cached-answers.js';
import { ClusterDataService } from '../clusters/cluster-data.service.js';
import { ZodPipe } from '../common/zod.pipe.js';

/**
 * `GET /api/v1/nodes`: with `cluster_name`, the original API's node list, kept for its
 * clients (same filters, sort, paging and body as `/api/v1/clusters/:cluster/nodes`;
 * the guard checks the token covers it); without it, the fleet list: the nodes of
 * every cluster the token covers, each with its `cluster`, merged in one order.
 * Both are cached answers (`ETag`, `If-None-Match`, `Accept-Encoding`).
 */
@Controller('api/v1/nodes')
export class LegacyNodesController {
  constructor(@Inject(ClusterDataService) private readonly data: ClusterDataService) {}

  @Get()
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodPipe(NodesRouteQuerySchema, 'node list query'))
    query: z.output<typeof NodesRouteQuerySchema>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { cluster_name: cluster, ...rest } = query;
    const listQuery: NodeListQuery = rest;
    const conditions = readConditions(request.headers);
    const answer =
      cluster !== undefined
        ? await this.data.listNodes(cluster, listQuery, conditions)
        : await this.data.listFleetNodes(principal, listQuery, conditions);
    await sendAnswer(reply, answer);
  }
}
