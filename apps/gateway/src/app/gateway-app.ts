import { hostname } from 'node:os';
import { Module, type DynamicModule, type OnApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { TokenVerifier } from '@knm/auth';
import { Keyspace } from '@knm/contracts';
import {
  ChangeSubscriber,
  NodePodsClient,
  createRedisConnection,
  NodeStoreReader,
  HistoryReader,
  redactRedisUrl,
  redisPubSubMode,
  type RedisClient,
} from '@knm/node-store';
import { AuthGuard } from '../auth/auth.guard.js';
import { RequestAuthenticator } from '../auth/request-authenticator.js';
import { ClusterDataService } from '../clusters/cluster-data.service.js';
import { installCachedRoutes } from '../clusters/cached-routes.js';
import { ClustersController } from '../clusters/clusters.controller.js';
import { HistoryController } from '../history/history.controller.js';
import { HistoryService } from '../history/history.service.js';
import { HttpErrorFilter } from '../common/http-error.filter.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { GatewayMetrics } from '../health/gateway-metrics.js';
import { HealthController } from '../health/health.controller.js';
import { LegacyNodesController } from '../nodes/legacy-nodes.controller.js';
import { openApiDocument } from '../openapi/openapi-document.js';
import { OPERATIONS_CONTROLLERS, operationsProviders } from '../operations/operations.providers.js';
import { ClusterFeed } from '../realtime/cluster-feed.js';
import { NodesGateway } from '../realtime/nodes.gateway.js';
import { RedisIoAdapter } from '../realtime/redis-io.adapter.js';
import { WsStatsController } from '../realtime/ws-stats.controller.js';
import { serveWebDashboard } from '../web/web-dashboard.js';
import { createGatewayLogger } from '../security/gateway-logger.js';
import { installAuthFailureLimit, installBodyChecks } from '../security/http-guards.js';
import { HELMET_OPTIONS, installSecurityHeaders } from '../security/security-headers.js';
import { OperationsRateGuard } from '../security/operations-rate.guard.js';
import { RateLimiter } from '../security/rate-limiter.js';
import { DEFAULT_SECURITY, type SecurityConfig } from '../security/security-config.js';
import {
  AUTH_FAILURE_LIMITER,
  OPS_RATE_LIMITER,
  SUBSCRIBE_RATE_LIMITER,
  TRUST_PROXY,
} from '../security/security.tokens.js';
import { TrustProxy } from '../security/trust-proxy.js';
import { oidcProviders, OIDC_CONTROLLERS } from '../oidc/oidc.providers.js';
import {
  REGISTRY_BODY_LIMIT,
  REGISTRY_BODY_ROUTES,
  REGISTRY_CONTROLLERS,
  registryProviders,
} from '../registry/registry.providers.js';
import { PinoNestLogger } from './pino-nest-logger.js';
import { WebhooksController } from '../webhooks/webhooks.controller.js';
import { WebhookSinkStore } from '@knm/notifications';
import {
  GATEWAY_CONFIG,
  GATEWAY_ID,
  KEYSPACE,
  LOGGER,
  NODE_PODS_CLIENT,
  WEBHOOK_SINKS,
  NODE_STORE_READER,
  HISTORY_READER,
  REDIS,
  REDIS_SUBSCRIBER,
  TOKEN_VERIFIER,
} from '../common/injection-tokens.js';

/** Options of {@link createGatewayApp} besides the configuration. */
export interface GatewayAppOptions {
  /** Logger; default pino at `config.logLevel` on stdout. */
  logger?: Logger;
  /** Time source for staleness; default `() => new Date()`. */
  clock?: () => Date;
}

/** Everything the app opened, closed once on shutdown (after the HTTP and Socket.IO servers). */
@Injectable()
class GatewayResources implements OnApplicationShutdown {
  constructor(
    @Inject(ClusterFeed) private readonly feed: ClusterFeed,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(REDIS_SUBSCRIBER)
    private readonly subscriber: { changes: ChangeSubscriber; connection: RedisClient },
    @Inject(NODE_PODS_CLIENT) private readonly nodePods: NodePodsClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.feed.close().catch(() => undefined);
    await this.nodePods.close().catch(() => undefined);
    await this.subscriber.changes.close().catch(() => undefined);
    for (const c of [this.subscriber.connection, this.redis]) await c.quit().catch(() => c.disconnect());
    this.logger.info('gateway stopped');
  }
}

@Module({})
class GatewayModule {
  static forRoot(
    config: GatewayConfig,
    runtime: { logger: Logger; clock?: () => Date; gatewayId: string; security: SecurityConfig },
  ): DynamicModule {
    const keyspace = new Keyspace(config.redisNamespace);
    const { security } = runtime;
    // Standalone or Redis Cluster, from the one URL; so is the change feed's pub/sub mode,
    // which the watchers derive from the same URL (sharded on a cluster, else classic).
    const redis = createRedisConnection(config.redisUrl, 'commands', { enableAutoPipelining: true });
    const subscriberConnection = createRedisConnection(config.redisUrl, 'subscriber');
    const pubsub = redisPubSubMode(config.redisUrl);
    const metrics = new GatewayMetrics();
    const reader = new NodeStoreReader(redis, keyspace, {
      staleAfterMs: config.staleAfterMs,
      ...(runtime.clock ? { clock: runtime.clock } : {}),
    });
    const changes = new ChangeSubscriber(subscriberConnection, keyspace, {
      pubsub,
      onInvalid: (_raw, err) =>
        runtime.logger.warn({ err }, 'dropped an invalid envelope from the changes channel'),
    });
    // Shares the changes connection: each listener ignores the other's channels.
    const nodePods = new NodePodsClient(redis, subscriberConnection, keyspace, {
      pubsub,
      ...(config.nodePodsTimeoutMs !== undefined ? { timeoutMs: config.nodePodsTimeoutMs } : {}),
      onInvalid: (subject, _raw, err) =>
        runtime.logger.warn({ err, subject }, "dropped a node's pods answer that does not decode"),
    });
    const feed = new ClusterFeed(
      changes,
      reader,
      {
        gatewayId: runtime.gatewayId,
        maxBufferedMessages: config.maxBufferedMessages,
        maxBufferedBytes: config.maxBufferedBytes,
        slowSocketTimeoutMs: config.slowSocketTimeoutMs,
        maxUnackedBytes: config.maxUnackedBytes,
        liveRate: config.liveRate,
        batchBudgetBytes: config.batchBudgetBytes,
        compressMinBytes: config.compressMinBytes,
      },
      metrics,
      runtime.logger,
    );
    let firstReady = true;
    subscriberConnection.on('ready', () => {
      if (firstReady) {
        firstReady = false;
        return;
      }
      runtime.logger.warn('changes connection reconnected: catching live subscriptions up from the stream');
      void feed.catchUpAll();
    });
    // On a Redis Cluster each shard has its own subscriber connection; ioredis replaces a
    // dropped one and resubscribes without a Cluster 'ready', then says 'subscribersReady'.
    // Envelopes of that shard published meanwhile were lost: catch up (a no-op when none were).
    subscriberConnection.on('subscribersReady', () => {
      runtime.logger.warn(
        'sharded changes subscribers renewed: catching live subscriptions up from the stream',
      );
      void feed.catchUpAll();
    });
    const verifier = new TokenVerifier({
      ...(config.jwtSecret ? { secret: config.jwtSecret } : {}),
      ...(config.jwksUrl ? { jwksUrl: config.jwksUrl } : {}),
      ...(config.maxTokenTtlSeconds !== undefined ? { maxTtlSeconds: config.maxTokenTtlSeconds } : {}),
    });
    return {
      module: GatewayModule,
      controllers: [
        HealthController,
        ClustersController,
        HistoryController,
        LegacyNodesController,
        WsStatsController,
        ...OPERATIONS_CONTROLLERS,
        ...OIDC_CONTROLLERS,
        WebhooksController,
        ...REGISTRY_CONTROLLERS,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: GATEWAY_ID, useValue: runtime.gatewayId },
        { provide: LOGGER, useValue: runtime.logger },
        { provide: KEYSPACE, useValue: keyspace },
        { provide: REDIS, useValue: redis },
        { provide: REDIS_SUBSCRIBER, useValue: { changes, connection: subscriberConnection } },
        { provide: NODE_STORE_READER, useValue: reader },
        { provide: HISTORY_READER, useValue: new HistoryReader(redis, keyspace) },
        { provide: NODE_PODS_CLIENT, useValue: nodePods },
        {
          provide: WEBHOOK_SINKS,
          useValue: config.registry?.box && new WebhookSinkStore(redis, keyspace, config.registry.box),
        },
        { provide: TOKEN_VERIFIER, useValue: verifier },
        { provide: GatewayMetrics, useValue: metrics },
        { provide: ClusterFeed, useValue: feed },
        RequestAuthenticator,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: TRUST_PROXY, useValue: TrustProxy.parse(security.trustProxy) },
        {
          provide: AUTH_FAILURE_LIMITER,
          useValue: new RateLimiter(
            redis,
            keyspace,
            'auth',
            { limit: security.authFailureLimit, windowMs: security.authFailureWindowMs },
            runtime.logger,
          ),
        },
        {
          provide: OPS_RATE_LIMITER,
          useValue: new RateLimiter(
            redis,
            keyspace,
            'ops',
            { limit: security.opsRateLimit, windowMs: security.opsRateWindowMs },
            runtime.logger,
          ),
        },
        {
          provide: SUBSCRIBE_RATE_LIMITER,
          useValue: new RateLimiter(
            redis,
            keyspace,
            'subscribe',
            { limit: security.subscribeRateLimit, windowMs: security.subscribeRateWindowMs },
            runtime.logger,
          ),
        },
        OperationsRateGuard,
        ClusterDataService,
        HistoryService,
        NodesGateway,
        GatewayResources,
        ...operationsProviders(config, runtime.logger),
        ...oidcProviders(config, redis, keyspace, runtime.logger),
        ...registryProviders(config),
      ],
    };
  }
}

/**
 * Builds a gateway replica (not yet listening): REST controllers, the `/nodes`
 * Socket.IO namespace on the Redis adapter, auth guard, error filter, CORS, helmet,
 * metrics and the OpenAPI document at `/api/docs` (JSON at `/api/docs-json`).
 * `await app.listen(port, host)` starts it; `app.close()` stops it and closes every
 * Redis connection it opened.
 */
export async function createGatewayApp(
  config: GatewayConfig,
  options: GatewayAppOptions = {},
): Promise<NestFastifyApplication> {
  const logger = options.logger ?? createGatewayLogger(config.logLevel);
  const gatewayId =
    config.gatewayId ?? `${hostname()}/${process.pid}/${Math.random().toString(36).slice(2, 8)}`;
  const security: SecurityConfig = { ...DEFAULT_SECURITY, ...config.security };
  const trustProxy = TrustProxy.parse(security.trustProxy);
  const module = GatewayModule.forRoot(config, {
    logger,
    gatewayId,
    security,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const adapter = new FastifyAdapter({
    logger: false,
    // request.ip: the first address not vouched for by a trusted proxy (KNM_TRUST_PROXY).
    trustProxy: (address: string, hop: number) => trustProxy.trusts(address, hop),
    bodyLimit: security.httpBodyLimit,
    // Node names are DNS subdomains of up to 253 characters (Fastify's default is 100).
    routerOptions: { maxParamLength: 253 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
    // Keep-alive REST connections and websockets must not hold app.close() open.
    forceCloseConnections: true,
  });
  const metrics = app.get(GatewayMetrics);
  const fastify = app.getHttpAdapter().getInstance();
  // Kubeconfigs are larger than other bodies: their routes get their own limit. Nest
  // registers routes on init (listen), after this hook is in place.
  fastify.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (REGISTRY_BODY_ROUTES.some((r) => r.url === route.url && methods.includes(r.method))) {
      route.bodyLimit = Math.max(REGISTRY_BODY_LIMIT, security.httpBodyLimit);
    }
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  installSecurityHeaders(fastify, HELMET_OPTIONS);
  app.enableCors({ origin: config.corsOrigins, credentials: true });
  const authFailures = app.get<RateLimiter>(AUTH_FAILURE_LIMITER);
  installAuthFailureLimit(fastify, authFailures);
  installBodyChecks(fastify, security.jsonMaxDepth);
  // The cached reads bypass Nest's router (why: cached-routes.ts); every hook above applies to them.
  installCachedRoutes(fastify, {
    data: app.get(ClusterDataService),
    authenticator: app.get(RequestAuthenticator),
    authFailures,
    logger,
  });
  await serveWebDashboard(app, { logger });
  app.useGlobalFilters(new HttpErrorFilter(logger));
  SwaggerModule.setup('api/docs', app, openApiDocument() as unknown as OpenAPIObject, {
    jsonDocumentUrl: 'api/docs-json',
  });
  const io = new RedisIoAdapter(app, {
    redisUrl: config.redisUrl,
    channelPrefix: new Keyspace(config.redisNamespace).socketIoPrefix,
    corsOrigins: config.corsOrigins,
    transports: config.transports,
    maxMessageBytes: security.wsMaxMessageBytes,
    ...(config.wsConnectTimeoutMs !== undefined ? { connectTimeoutMs: config.wsConnectTimeoutMs } : {}),
    ...(config.wsPingTimeoutMs !== undefined ? { pingTimeoutMs: config.wsPingTimeoutMs } : {}),
  });
  await io.connect();
  app.useWebSocketAdapter(io);
  logger.info(
    {
      gatewayId,
      socketIoAdapter: io.mode,
      namespace: config.redisNamespace,
      redis: redactRedisUrl(config.redisUrl),
      changesPubSub: redisPubSubMode(config.redisUrl),
      security,
    },
    'gateway created',
  );
  return app;
}
