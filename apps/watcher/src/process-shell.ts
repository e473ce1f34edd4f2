import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { createRedisConnection, redisPubSubMode, type PubSubMode, type RedisClient } from '@knm/node-store';
import { redactUrl, WatcherConfigError, type WatcherConfig } from './watcher-config.js';
import type { WatcherMetrics } from './watcher-metrics.js';

/** The Redis connections one watcher process shares between all its clusters. */
export interface ProcessRedis {
  /** Commands (leases, scripts, reads). */
  redis: RedisClient;
  /** Subscriber mode: pod-list requests of every cluster the process leads. */
  subscriber: RedisClient;
  /** Classic or sharded pub/sub, from the same URL as the connections. */
  pubsub: PubSubMode;
  /** Closes both connections. */
  close(): Promise<void>;
}

/**
 * Connects to Redis (standalone or Redis Cluster, from the one URL). Rejects with a
 * {@link WatcherConfigError} when Redis refuses the URL's credentials; Redis being
 * down does not hold the start-up (the connections retry in the background).
 */
export async function connectProcessRedis(
  config: Pick<WatcherConfig, 'redisUrl'>,
  logger: Logger,
): Promise<ProcessRedis> {
  const redis = createRedisConnection(config.redisUrl, 'commands', { maxRetriesPerRequest: 3 });
  let redisDown = false;
  redis.on('error', (err: Error) => {
    if (!redisDown) logger.warn({ err: err.message, redis: redactUrl(config.redisUrl) }, 'redis unreachable');
    redisDown = true;
  });
  redis.on('ready', () => {
    if (redisDown) logger.info('redis reachable again');
    redisDown = false;
  });
  try {
    await firstRedisAttempt(redis);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const subscriber = createRedisConnection(config.redisUrl, 'subscriber');
  subscriber.on('error', () => undefined); // reported by the commands connection's handler
  return {
    redis,
    subscriber,
    pubsub: redisPubSubMode(config.redisUrl),
    async close() {
      await subscriber.quit().catch(() => subscriber.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** A JSON answer of the health server: its status code and body. */
export interface HealthAnswer {
  status: number;
  body: unknown;
}

/**
 * The process's small HTTP server: `/healthz`, `/metrics` (every cluster's series,
 * one registry) and the JSON routes the mode adds (`/readyz`, and `/pool` for a pool
 * member). Resolves once it listens.
 */
export async function startHealthServer(
  config: Pick<WatcherConfig, 'metricsPort' | 'metricsHost'>,
  metrics: WatcherMetrics,
  routes: Readonly<Record<string, () => HealthAnswer>>,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (route) {
      sendJson(res, route());
    } else if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.metricsPort, config.metricsHost, () => resolve());
  });
  return server;
}

/** Closes the health server and every connection it holds. */
export async function closeHealthServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function sendJson(res: ServerResponse, answer: HealthAnswer): void {
  res
    .writeHead(answer.status, { 'content-type': 'application/json' })
    .end(`${JSON.stringify(answer.body)}\n`);
}

/**
 * Waits for the first connection attempt's outcome: rejects with a
 * {@link WatcherConfigError} when Redis refuses the URL's credentials (WRONGPASS,
 * NOAUTH), a configuration error that retrying cannot fix; resolves when it is ready
 * or fails otherwise (Redis down: the connection retries in the background as usual).
 */
function firstRedisAttempt(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      redis.off('ready', onReady);
      redis.off('error', onError);
    };
    const onReady = (): void => {
      done();
      resolve();
    };
    const onError = (err: Error): void => {
      done();
      if (/^(WRONGPASS|NOAUTH)|invalid (username-)?password/i.test(err.message)) {
        reject(
          new WatcherConfigError(
            `Redis refused the credentials of the Redis URL (${err.message.split('\n')[0]}): fix the password in --redis / REDIS_URL`,
          ),
        );
      } else resolve();
    };
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}
