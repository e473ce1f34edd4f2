import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { pino, type Logger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { signToken } from '@knm/auth';
import {
  REALTIME_NAMESPACE,
  toClusterName,
  type AuthClaims,
  type ClusterName,
  type NodeSnapshot,
} from '@knm/contracts';
import { NodeStoreWriter } from '@knm/node-store';
import type { TestRedis } from '@knm/testing';
import { createGatewayApp } from '../../src/app/gateway-app.js';
import type { GatewayConfig } from '../../src/config/gateway-config.js';

export const SECRET = 'gateway-test-secret-0123456789-abcdefghij';

/** One running gateway replica. */
export interface RunningGateway {
  app: NestFastifyApplication;
  url: string;
  id: string;
  close(): Promise<void>;
}

/**
 * Starts a gateway on an OS-assigned port (or `overrides.port`: a gateway back at a dead one's address) against the test's Redis namespace (its log
 * to `logger` when given). Unpaced unless `overrides.liveRate` says otherwise.
 */
export async function startGateway(
  redis: TestRedis,
  overrides: Partial<GatewayConfig> = {},
  id = `gw-${Math.random().toString(36).slice(2, 7)}`,
  logger?: Logger,
): Promise<RunningGateway> {
  const config: GatewayConfig = {
    port: 0,
    host: '127.0.0.1',
    redisUrl: redis.url,
    redisNamespace: redis.namespace,
    jwtSecret: SECRET,
    corsOrigins: ['http://allowed.example'],
    staleAfterMs: 15_000,
    transports: ['websocket'],
    maxBufferedMessages: 256,
    maxBufferedBytes: 1024 * 1024,
    slowSocketTimeoutMs: 60_000,
    maxUnackedBytes: 32 * 1024,
    // Unpaced: every envelope is its own event, as the tests that follow each one expect;
    // the pacing tests set liveRate themselves.
    liveRate: 0,
    batchBudgetBytes: 64 * 1024 * 1024,
    compressMinBytes: 16 * 1024,
    logLevel: 'silent',
    gatewayId: id,
    ...overrides,
  };
  const app = await createGatewayApp(config, {
    logger: logger ?? pino({ level: process.env['KNM_TEST_LOG'] ?? 'silent' }),
  });
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  if (!address || typeof address !== 'object') throw new Error('gateway has no address');
  let closed = false;
  return {
    app,
    id,
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

/** Signs a test token. */
export function token(claims: Partial<AuthClaims> = {}, ttlSeconds = 3600): Promise<string> {
  return signToken({ sub: 'tester', role: 'viewer', clusters: '*', ...claims } as AuthClaims, {
    secret: SECRET,
    ttlSeconds,
  });
}

/** A cluster written through node-store's real writer (epoch from the real counter). */
export async function seedCluster(
  redis: TestRedis,
  name: string,
  nodes: readonly NodeSnapshot[],
  podCounts: Readonly<Record<string, number>> = {},
  options: { eventsMaxLen?: number } = {},
): Promise<{ cluster: ClusterName; writer: NodeStoreWriter; seq: number }> {
  const cluster = toClusterName(name);
  const epoch = await redis.client.incr(redis.keyspace.cluster(cluster).epoch);
  const writer = new NodeStoreWriter(
    redis.client,
    redis.keyspace,
    cluster,
    epoch,
    `test-writer-${epoch}`,
    options,
  );
  await writer.register({ server: 'https://kube.example' });
  const seq = await writer.rebuild({ nodes, podCounts, reason: 'rebuild' });
  await writer.heartbeat();
  return { cluster, writer, seq };
}

/** A socket.io-client on `/nodes` of `url` (websocket only), connected or rejected. */
export function connectSocket(
  url: string,
  auth: Record<string, unknown> | undefined,
  extra: Parameters<typeof io>[1] = {},
): Socket {
  return io(`${url}${REALTIME_NAMESPACE}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(auth ? { auth } : {}),
    ...extra,
  });
}

/** Resolves when the socket connects; rejects with the connect_error. */
export function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
}

/** Emits with an ack and resolves with the ack's value (times out after 10 s). */
export function request<T>(socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(10_000).emitWithAck(event, ...args) as Promise<T>;
}

/** What {@link httpCall} answers: the status, the body (parsed JSON, else the text) and the headers. */
export interface HttpAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

/**
 * One HTTP request to the gateway at `url`: a bearer token unless `auth` is null, and
 * `body` sent as JSON (with its content type, which `headers` may override).
 */
export async function httpCall(
  url: string,
  path: string,
  init: { method?: string; auth: string | null; headers?: Record<string, string>; body?: string },
): Promise<HttpAnswer> {
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.auth === null ? {} : { authorization: `Bearer ${init.auth}` }),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (metrics, a refused media type): left as text, and the assertions say so.
  }
  return { status: response.status, body, headers: response.headers };
}

/** A gateway's metric, by name and labels as exposed (`name{label="value"}`), read from its `/metrics` (NaN when it has none). */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  // The value follows the last space: a label's value may hold spaces.
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}
