import { Controller, Get, Header, Inject, Query } from '@nestjs/common';
import { NodesRouteQuerySchema, type NodeListQuery } from '@knm/contracts';
import type { Principal } from '@knm/auth';
import type { z } from 'zod';
import { CurrentPrincipal } from '../auth/request-principal.js';
import { ClusterDataService, JSON_CONTENT_TYPE } from '../clusters/cluster-data.service.js';
import { ZodPipe } from '../common/zod.pipe.js';

/**
 * `GET /api/v1/nodes`: with `cluster_name`, the original API's node list, kept for its
 * clients (same filters, sort, paging and body as `/api/v1/clusters/:cluster/nodes`;
 * the guard checks the token covers it); without it, the fleet list: the nodes of
 * every cluster the token covers, each with its `cluster`, merged in one order.
 */
@Controller('api/v1/nodes')
export class LegacyNodesController {
  constructor(@Inject(ClusterDataService) private readonly data: ClusterDataService) {}

  @Get()
  @Header('content-type', JSON_CONTENT_TYPE)
  list(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodPipe(NodesRouteQuerySchema, 'node list query'))
    query: z.output<typeof NodesRouteQuerySchema>,
  ): Promise<Buffer> {
    const { cluster_name: cluster, ...rest } = query;
    const listQuery: NodeListQuery = rest;
    if (cluster !== undefined) return this.data.listNodesBody(cluster, listQuery);
    return this.data.listFleetNodesBody(principal, listQuery);
  }
}
