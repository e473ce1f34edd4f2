import { Controller, Get, Inject } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Principal } from '@knm/auth';
import { clustersAllow, type GatewayStats, type WsStatsResponse } from '@knm/contracts';
import { LOGGER } from '../app/tokens.js';
import { CurrentPrincipal } from '../auth/request-principal.js';
import { NodesGateway, STATS_EVENT } from './nodes.gateway.js';

/**
 * `GET /api/v1/ws/stats`: Socket.IO clients and subscriptions of EVERY replica,
 * collected through the Redis adapter (`serverSideEmitWithAck`), summed per cluster.
 * A replica that does not answer within the adapter's timeout is left out (logged).
 * Only the clusters the caller's token covers appear, so the answer never tells
 * which other clusters exist.
 */
@Controller('api/v1/ws')
export class WsStatsController {
  constructor(
    @Inject(NodesGateway) private readonly gateway: NodesGateway,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get('stats')
  async stats(@CurrentPrincipal() principal: Principal): Promise<WsStatsResponse> {
    let replicas: GatewayStats[] = [this.gateway.localStats()];
    try {
      const others = (await this.gateway.namespace.serverSideEmitWithAck(STATS_EVENT)) as GatewayStats[];
      replicas.push(...others);
    } catch (err) {
      this.logger.warn({ err }, 'some gateway replicas did not answer the stats request');
    }
    replicas.sort((a, b) => (a.gateway < b.gateway ? -1 : a.gateway > b.gateway ? 1 : 0));
    replicas = replicas.map((r) => ({
      ...r,
      subscriptions: Object.fromEntries(
        Object.entries(r.subscriptions).filter(([cluster]) => clustersAllow(principal.clusters, cluster)),
      ),
    }));
    const subscriptions: Record<string, number> = {};
    for (const r of replicas) {
      for (const [cluster, n] of Object.entries(r.subscriptions))
        subscriptions[cluster] = (subscriptions[cluster] ?? 0) + n;
    }
    return {
      gateways: replicas.length,
      clients: replicas.reduce((sum, r) => sum + r.clients, 0),
      subscriptions,
      replicas,
    };
  }
}
