import { Body, Controller, Delete, HttpCode, Inject, Param, Post, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { assertClusterAccess, assertRole, type Principal } from '@knm/auth';
import {
  ClusterNameSchema,
  RegisterClusterRequestSchema,
  ReplaceClusterCredentialsRequestSchema,
  TestClusterConnectionRequestSchema,
  type ClusterName,
  type ConnectionTestFailedBody,
  type ConnectionTestResult,
  type RegisterClusterRequest,
  type ReplaceClusterCredentialsRequest,
  type TestClusterConnectionRequest,
} from '@knm/contracts';
import { CurrentPrincipal } from '../auth/request-principal.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { ClusterRegistry, type RegistrationResult } from './cluster-registry.js';
import { ConnectionTestFailedError } from './registry-errors.js';

const clusterParam = new ZodPipe(ClusterNameSchema, 'cluster name in the path');
const registerBody = new ZodPipe(RegisterClusterRequestSchema, 'cluster registration');
const replaceBody = new ZodPipe(ReplaceClusterCredentialsRequestSchema, 'cluster credentials');
const testBody = new ZodPipe(TestClusterConnectionRequestSchema, 'connection test');

/**
 * Clusters registered at runtime (role admin; a token scoped to clusters must cover
 * the name):
 * - `POST /api/v1/clusters` `{name, kubeconfig, context?}` -> 201 `{cluster, test}`;
 *   400 invalid input or kubeconfig, 409 name taken, 422 the connection test failed
 *   (body: which check and why), 413 too large, 503 without KNM_SECRETS_KEY
 * - `PUT /api/v1/clusters/:cluster` `{kubeconfig, context?}` -> 200 `{cluster, test}`; 404 not registered
 * - `DELETE /api/v1/clusters/:cluster` -> 204 once every key of the cluster is gone; 404 not registered
 * - `POST /api/v1/clusters/test` `{kubeconfig, context?, name?}` -> 200 the test result, stores nothing
 *
 * Request bodies hold credentials: nothing here logs them, and no answer repeats them.
 */
@Controller('api/v1/clusters')
export class ClusterRegistryController {
  constructor(@Inject(ClusterRegistry) private readonly registry: ClusterRegistry) {}

  @Post('test')
  @HttpCode(200)
  test(
    @CurrentPrincipal() principal: Principal,
    @Body(testBody) body: TestClusterConnectionRequest,
  ): Promise<ConnectionTestResult> {
    assertRole(principal, 'admin');
    return this.registry.test(body);
  }

  @Post()
  async register(
    @CurrentPrincipal() principal: Principal,
    @Body(registerBody) body: RegisterClusterRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RegistrationResult | ConnectionTestFailedBody> {
    assertRole(principal, 'admin');
    assertClusterAccess(principal, body.name);
    return this.answer(reply, 201, () => this.registry.register(body.name, body, principal.sub));
  }

  @Put(':cluster')
  async replace(
    @CurrentPrincipal() principal: Principal,
    @Param('cluster', clusterParam) cluster: ClusterName,
    @Body(replaceBody) body: ReplaceClusterCredentialsRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RegistrationResult | ConnectionTestFailedBody> {
    assertRole(principal, 'admin');
    return this.answer(reply, 200, () => this.registry.replace(cluster, body, principal.sub));
  }

  @Delete(':cluster')
  @HttpCode(204)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('cluster', clusterParam) cluster: ClusterName,
  ): Promise<void> {
    assertRole(principal, 'admin');
    await this.registry.remove(cluster, principal.sub);
  }

  private async answer(
    reply: FastifyReply,
    status: 200 | 201,
    run: () => Promise<RegistrationResult>,
  ): Promise<RegistrationResult | ConnectionTestFailedBody> {
    try {
      const result = await run();
      void reply.status(status);
      return result;
    } catch (err) {
      if (!(err instanceof ConnectionTestFailedError)) throw err;
      void reply.status(err.status);
      return {
        statusCode: err.status,
        error: err.status === 400 ? 'Bad Request' : 'Unprocessable Entity',
        message: err.message,
        test: err.result,
      };
    }
  }
}
