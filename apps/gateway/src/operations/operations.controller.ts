import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Principal } from '@knm/auth';
import {
  AuditQuerySchema,
  ClusterNameSchema,
  OperationListQuerySchema,
  type AuditQuery,
  type AuditResponse,
  type ClusterName,
  type CreateOperationResponse,
  type DryRunResponse,
  type Operation,
  type OperationListQuery,
  type OperationListResponse,
} from '@knm/contracts';
import { CurrentPrincipal } from '../auth/request-principal.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { OperationsRateGuard } from '../security/operations-rate.guard.js';
import { OperationsService } from './operations.service.js';

const clusterParam = new ZodPipe(ClusterNameSchema, 'cluster name in the path');
const listQuery = new ZodPipe(OperationListQuerySchema, 'operation list query');

/**
 * Node operations and the audit trail:
 * - `POST /api/v1/clusters/:cluster/operations` -> 202 `{operationId, operation}`, or 200 dry run
 *   (429 over `KNM_OPS_RATE_LIMIT` per token subject)
 * - `GET /api/v1/clusters/:cluster/operations?limit=` -> recent, newest first
 * - `GET /api/v1/operations/:id`
 * - `POST /api/v1/operations/:id/cancel` -> 200 the operation (`cancelled`, or `running` with
 *   `cancelRequestedAt` until its runner stops); 409 when it had already finished
 * - `GET /api/v1/audit?cluster=&user=&action=&since=&until=&limit=`
 */
@Controller('api/v1')
export class OperationsController {
  constructor(@Inject(OperationsService) private readonly operations: OperationsService) {}

  @Post('clusters/:cluster/operations')
  @UseGuards(OperationsRateGuard)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Param('cluster', clusterParam) cluster: ClusterName,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CreateOperationResponse | DryRunResponse> {
    const result = await this.operations.create(principal, cluster, body);
    void reply.status(result.dryRun ? 200 : 202);
    return result.response;
  }

  @Get('clusters/:cluster/operations')
  async list(
    @Param('cluster', clusterParam) cluster: ClusterName,
    @Query(listQuery) query: OperationListQuery,
  ): Promise<OperationListResponse> {
    return { cluster, items: await this.operations.list(cluster, query.limit) };
  }

  @Get('operations/:id')
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Operation> {
    return this.operations.get(principal, id);
  }

  @Post('operations/:id/cancel')
  @HttpCode(200)
  @UseGuards(OperationsRateGuard)
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Operation> {
    return this.operations.cancel(principal, id);
  }

  @Get('audit')
  async audit(
    @CurrentPrincipal() principal: Principal,
    @Query(new ZodPipe(AuditQuerySchema, 'audit query')) query: AuditQuery,
  ): Promise<AuditResponse> {
    return { items: await this.operations.auditTrail(principal, query) };
  }
}
