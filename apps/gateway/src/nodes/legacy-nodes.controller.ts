import { Controller, Get, Header, Inject, Query } from '@nestjs/common';
import { LegacyNodeListQuerySchema } from '@knm/contracts';
import type { z } from 'zod';
import { ClusterDataService, JSON_CONTENT_TYPE } from '../clusters/cluster-data.service.js';
import { ZodPipe } from '../common/zod.pipe.js';

/**
 * `GET /api/v1/nodes?cluster_name=...`: the original API's node list, kept for its
 * clients; same filters, sort, paging and body as `/api/v1/clusters/:cluster/nodes`.
 */
@Controller('api/v1/nodes')
export class LegacyNodesController {
  constructor(@Inject(ClusterDataService) private readonly data: ClusterDataService) {}

  @Get()
  @Header('content-type', JSON_CONTENT_TYPE)
  list(
    @Query(new ZodPipe(LegacyNodeListQuerySchema, 'node list query'))
    query: z.output<typeof LegacyNodeListQuerySchema>,
  ): Promise<Buffer> {
    const { cluster_name: cluster, ...rest } = query;
    return this.data.listNodesBody(cluster, rest);
  }
}
