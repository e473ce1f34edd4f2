import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import type { Logger } from 'pino';
import { assertClusterAccess, assertRole, type Principal } from '@knm/auth';
import {
  PROTOCOL_VERSION,
  RealtimeEvents,
  WsTestRequestSchema,
  clustersAllow,
  type GatewayStats,
  type TestMessage,
  type WsPingResponse,
  type WsStatsResponse,
  type WsTestRequest,
  type WsTestResponse,
} from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';
import { GATEWAY_ID, LOGGER, REDIS, REDIS_SUBSCRIBER } from '../common/injection-tokens.js';
import { CurrentPrincipal } from '../auth/request-principal.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { clusterRoom } from './cluster-feed.js';
import { NodesGateway, STATS_EVENT } from './nodes.gateway.js';

/**
 * The realtime layer's REST side, `/api/v1/ws/...`:
 * - `GET stats`: Socket.IO clients and subscriptions of EVERY replica, collected
 *   through the Redis adapter (`serverSideEmitWithAck`), summed per cluster. A replica
 *   that does not answer within the adapter's timeout is left out (logged). Only the
 *   clusters the caller's token covers appear, so the answer never tells which other
 *   clusters exist.
 * - `GET ping`: this replica's realtime health (its changes connection, a Redis round trip).
 * - `POST test` (admin): sends a `test_message` to every socket subscribed to a
 *   cluster, on every replica (through the Redis adapter), and counts the sockets
 *   that acknowledged it: the whole path, end to end.
 */
@Controller('api/v1/ws')
export class WsStatsController {
  constructor(
    @Inject(NodesGateway) private readonly gateway: NodesGateway,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(GATEWAY_ID) private readonly gatewayId: string,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: { connection: { status: string } },
  ) {}

  @Get('stats')
  async stats(@CurrentPrincipal() principal: Principal): Promise<WsStatsResponse> {
    const replicas = (await this.replicas()).map((r) => ({
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

  @Get('ping')
  async ping(): Promise<WsPingResponse> {
    const changesConnection = this.subscriber.connection.status;
    const answer: WsPingResponse = {
      ok: changesConnection === 'ready',
      gateway: this.gatewayId,
      protocol: PROTOCOL_VERSION,
      clients: this.gateway.localStats().clients,
      changesConnection,
    };
    const started = performance.now();
    try {
      await this.redis.ping();
      answer.redisLatencyMs = Math.round((performance.now() - started) * 100) / 100;
    } catch (err) {
      this.logger.warn({ err }, 'ws ping: Redis did not answer');
      answer.ok = false;
    }
    return answer;
  }

  @Post('test')
  @HttpCode(200)
  async test(
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodPipe(WsTestRequestSchema, 'ws test request')) body: WsTestRequest,
  ): Promise<WsTestResponse> {
    assertRole(principal, 'admin');
    assertClusterAccess(principal, body.cluster);
    const replicas = await this.replicas();
    const subscribers = replicas.reduce((sum, r) => sum + (r.subscriptions[body.cluster] ?? 0), 0);
    const message: TestMessage = {
      id: randomUUID(),
      cluster: body.cluster,
      message: body.message,
      sentAt: new Date().toISOString(),
    };
    const started = performance.now();
    const acks = await new Promise<unknown[]>((resolve) => {
      this.gateway.namespace
        .to(clusterRoom(body.cluster))
        .timeout(body.timeoutMs)
        .emit(RealtimeEvents.test, message, (_err: Error | null, responses: unknown[] | undefined) =>
          resolve(responses ?? []),
        );
    });
    const received = acks.filter(
      (a) => typeof a === 'object' && a !== null && (a as { ok?: unknown }).ok === true,
    ).length;
    this.logger.info(
      { id: message.id, cluster: body.cluster, subscribers, received, by: principal.sub },
      'realtime test message sent',
    );
    return {
      id: message.id,
      cluster: body.cluster,
      gateways: replicas.length,
      subscribers,
      received,
      durationMs: Math.round(performance.now() - started),
    };
  }

  private async replicas(): Promise<GatewayStats[]> {
    const replicas: GatewayStats[] = [this.gateway.localStats()];
    try {
      const others = (await this.gateway.namespace.serverSideEmitWithAck(STATS_EVENT)) as GatewayStats[];
      replicas.push(...others);
    } catch (err) {
      this.logger.warn({ err }, 'some gateway replicas did not answer the stats request');
    }
    return replicas.sort((a, b) => (a.gateway < b.gateway ? -1 : a.gateway > b.gateway ? 1 : 0));
  }
}
