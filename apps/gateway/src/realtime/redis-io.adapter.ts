import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { IncomingMessage } from 'node:http';
import { createRedisConnection, parseRedisUrl, type RedisClient } from '@knm/node-store';
import { originAllowed } from './origin-policy.js';

interface ClosableIoServer {
  engine: { close(): void };
  _nsps: Map<
    string,
    { sockets: Map<string, { disconnect(close: boolean): void }>; adapter: { close(): Promise<void> | void } }
  >;
}

/** Options of {@link RedisIoAdapter}. */
export interface RedisIoAdapterOptions {
  /**
   * The Redis URL (standalone, or `redis+cluster://...`): the adapter opens its own
   * publish and subscribe connections with `createRedisConnection` (on a Redis
   * Cluster the subscriber opens one connection per shard, as SSUBSCRIBE needs).
   */
  redisUrl: string;
  /** Channel prefix, `keyspace.socketIoPrefix` (`knm:sio`). */
  channelPrefix: string;
  /**
   * Allowed browser origins besides the gateway's own (see `originAllowed`); a
   * handshake with another `Origin` is refused. No Origin (non-browser) is allowed.
   */
  corsOrigins: readonly string[];
  /** Largest message a client may send, in bytes (Socket.IO `maxHttpBufferSize`); larger closes the connection. Default 64 KiB. */
  maxMessageBytes?: number;
  /** Default `['websocket']`. */
  transports?: ('websocket' | 'polling')[];
  /** Force the classic adapter even on Redis >= 7 (e.g. a proxy without sharded pub/sub). Default false. */
  classic?: boolean;
  /**
   * A connection that has joined no namespace this long after its handshake (it never
   * authenticated: a refused `/nodes` handshake, or the refused default namespace) is
   * closed (Socket.IO `connectTimeout`). Default 10,000 ms.
   */
  connectTimeoutMs?: number;
  /**
   * A socket that has not answered a ping within this long is closed (Socket.IO
   * `pingTimeout`; pings go every 25 s). Default 20,000 ms.
   */
  pingTimeoutMs?: number;
}

/** Why the default namespace `/` refuses every connection. */
const DEFAULT_NAMESPACE_REFUSAL = 'the default namespace is closed: connect to /nodes with auth: { token }';

/**
 * Socket.IO on Nest with `@socket.io/redis-adapter`, so that replicas see each
 * other for room-wide and per-user emits, `fetchSockets` and `serverSideEmit`
 * (the ws stats). On Redis >= 7 it uses the sharded adapter (SPUBLISH/SSUBSCRIBE,
 * which scales on a Redis Cluster), else the classic one; both work on a standalone
 * server and on a Redis Cluster (ioredis `Cluster` connections). Websocket transport only
 * by default: no sticky sessions are needed. Call {@link connect} before
 * `app.useWebSocketAdapter`.
 */
export class RedisIoAdapter extends IoAdapter {
  private pub: RedisClient | undefined;
  private sub: RedisClient | undefined;
  private adapterFactory:
    ReturnType<typeof createAdapter> | ReturnType<typeof createShardedAdapter> | undefined;
  /** Which adapter {@link connect} chose. */
  mode: 'sharded' | 'classic' | undefined;

  constructor(
    app: INestApplicationContext,
    private readonly options: RedisIoAdapterOptions,
  ) {
    super(app);
  }

  /** Opens the adapter's Redis connections and picks sharded or classic pub/sub from the server version. */
  async connect(): Promise<void> {
    const config = parseRedisUrl(this.options.redisUrl);
    this.pub = createRedisConnection(config, 'commands');
    this.sub = createRedisConnection(config, 'subscriber');
    // Errors surface as failed emits and in /readyz (the main connection); unheard they would crash the process.
    for (const c of [this.pub, this.sub]) c.on('error', () => undefined);
    const info = await this.pub.info('server');
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? '0');
    this.mode = major >= 7 && !this.options.classic ? 'sharded' : 'classic';
    this.adapterFactory =
      this.mode === 'sharded'
        ? createShardedAdapter(this.pub, this.sub, { channelPrefix: this.options.channelPrefix })
        : createAdapter(this.pub, this.sub, { key: this.options.channelPrefix });
  }

  override createIOServer(
    port: number,
    options?: Parameters<IoAdapter['createIOServer']>[1],
  ): ReturnType<IoAdapter['createIOServer']> {
    const origins = new Set(this.options.corsOrigins);
    const server = super.createIOServer(port, {
      ...options,
      serveClient: false,
      transports: this.options.transports ?? ['websocket'],
      maxHttpBufferSize: this.options.maxMessageBytes ?? 64 * 1024,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
      pingTimeout: this.options.pingTimeoutMs ?? 20_000,
      cors: { origin: [...origins], credentials: true },
      allowRequest: (
        req: IncomingMessage,
        callback: (err: string | null | undefined, ok: boolean) => void,
      ) => {
        if (originAllowed(req, origins)) callback(null, true);
        else callback('origin not allowed (KNM_CORS_ORIGINS)', false);
      },
    } as Parameters<IoAdapter['createIOServer']>[1]);
    if (!this.adapterFactory)
      throw new Error('RedisIoAdapter.connect() must be awaited before the app starts');
    server.adapter(this.adapterFactory);
    // Socket.IO always has `/`; nothing authenticates there, so nothing may connect there.
    server
      .of('/')
      .use((_socket, next) =>
        next(Object.assign(new Error(DEFAULT_NAMESPACE_REFUSAL), { data: { statusCode: 401 } })),
      );
    return server;
  }

  /**
   * Closes a Socket.IO server WITHOUT closing the HTTP server it is attached to
   * (socket.io's own `close` calls `httpServer.close`, which waits for every
   * keep-alive REST connection; Fastify closes the HTTP server itself). Every socket
   * is disconnected (clients reconnect, possibly to another replica) and the Redis
   * adapter unsubscribes.
   */
  override async close(server: Parameters<IoAdapter['close']>[0]): Promise<void> {
    const io = server as unknown as Partial<ClosableIoServer>;
    if (!io.engine || !io._nsps) return;
    await Promise.allSettled(
      [...io._nsps.values()].map(async (nsp) => {
        for (const socket of [...nsp.sockets.values()]) socket.disconnect(true);
        await nsp.adapter.close();
      }),
    );
    io.engine.close();
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    await Promise.all([this.pub, this.sub].map((c) => c?.quit().catch(() => c.disconnect())));
  }
}
