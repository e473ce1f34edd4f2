import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import {
  ClusterNameSchema,
  HistoryQuerySchema,
  IncidentsQuerySchema,
  MttrQuerySchema,
  NodeNameSchema,
  type ClusterName,
  type HistoryPage,
  type HistoryQuery,
  type IncidentsQuery,
  type IncidentsResponse,
  type MttrQuery,
  type MttrResponse,
} from '@knm/contracts';
import type { Principal } from '@knm/auth';
import { CurrentPrincipal } from '../auth/request-principal.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { HistoryService } from './history.service.js';

const clusterParam = new ZodPipe(ClusterNameSchema, 'cluster name in the path');
const nodeParam = new ZodPipe(NodeNameSchema, 'node name in the path');
const historyQuery = new ZodPipe(HistoryQuerySchema, 'history query');
const incidentsQuery = new ZodPipe(IncidentsQuerySchema, 'incidents query');

/** A node's timeline (`/clusters/:c/nodes/:n/history`), incidents and their MTTR (`/incidents`). */
@Controller('api/v1')
export class HistoryController {
  constructor(@Inject(HistoryService) private readonly service: HistoryService) {}

  @Get('clusters/:cluster/nodes/:node/history')
  nodeHistory(
    @Param('cluster', clusterParam) cluster: ClusterName,
    @Param('node', nodeParam) node: string,
    @Query(historyQuery) query: HistoryQuery,
  ): Promise<HistoryPage> {
    return this.service.nodeHistory(cluster, node, query);
  }

  @Get('incidents')
  incidents(
    @CurrentPrincipal() principal: Principal,
    @Query(incidentsQuery) query: IncidentsQuery,
  ): Promise<IncidentsResponse> {
    return this.service.incidents(principal, query);
  }

  @Get('incidents/mttr')
  mttr(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodPipe(MttrQuerySchema, 'MTTR query')) query: MttrQuery,
  ): Promise<MttrResponse> {
    return this.service.mttr(principal, query);
  }
}
