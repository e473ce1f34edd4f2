import { Controller, Get, Inject, Param } from '@nestjs/common';
import {
  clustersAllow,
  ClusterNameSchema,
  NodeNameSchema,
  type ClusterListResponse,
  type ClusterName,
  type NodePodsList,
} from '@knm/contracts';
import type { Principal } from '@knm/auth';
import { CurrentPrincipal } from '../auth/request-principal.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { ClusterRegistry } from '../registry/cluster-registry.js';
import { withRegistered } from '../registry/with-registered.js';
import { ClusterDataService } from './cluster-data.service.js';

/**
 * `/api/v1/clusters/...`: the clusters, and the pods behind a node's numbers. The
 * cached reads under it (node lists, a node, pod counts, resources) are served by
 * Fastify directly: `cached-routes.ts`.
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

  @Get(':cluster/nodes/:node/pods')
  nodePods(
    @Param('cluster', new ZodPipe(ClusterNameSchema, 'cluster name in the path')) cluster: ClusterName,
    @Param('node', new ZodPipe(NodeNameSchema, 'node name in the path')) node: string,
  ): Promise<NodePodsList> {
    return this.data.nodePods(cluster, node);
  }
}
