import { Inject } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import {
  AuthenticationError,
  ForbiddenError,
  assertClusterAccess,
  type Principal,
  type TokenVerifier,
} from '@knm/auth';
import {
  AckMessageSchema,
  ContractError,
  PROTOCOL_VERSION,
  REALTIME_NAMESPACE,
  RealtimeEvents,
  SubscribeMessageSchema,
  UnsubscribeMessageSchema,
  decode,
  type GatewayStats,
  type RealtimeErrorAck,
  type RealtimeErrorCode,
  type SubscribeAck,
  type UnsubscribeAck,
  type WelcomeMessage,
} from '@knm/contracts';
import type { NodeStoreReader } from '@knm/node-store';
import { OIDC, type OidcServices } from '../oidc/oidc-services.js';
import { GATEWAY_ID, LOGGER, NODE_STORE_READER, TOKEN_VERIFIER } from '../common/injection-tokens.js';
import { GatewayMetrics } from '../health/gateway-metrics.js';
import { authFailureRefusal } from '../security/http-guards.js';
import type { RateLimiter } from '../security/rate-limiter.js';
import { AUTH_FAILURE_LIMITER, SUBSCRIBE_RATE_LIMITER, TRUST_PROXY } from '../security/security.tokens.js';
import type { TrustProxy } from '../security/trust-proxy.js';
import { ClusterFeed } from './cluster-feed.js';

/** The Socket.IO room of one user's sockets (for per-user emits from any replica). */
export function userRoom(sub: string): string {
  return `user:${sub}`;
}

/** The server-side event replicas use to collect each other's stats. */
export const STATS_EVENT = 'knm:stats';

interface SocketData {
  principal: Principal;
  expiryTimer?: ReturnType<typeof setTimeout>;
  /** Times of this socket's recent subscribes (for the per-socket subscribe rate). */
  subscribes?: number[];
}

/** Subscribes one socket may make per {@link SUBSCRIBE_WINDOW_MS}: each one folds and sends a batch. */
export const MAX_SUBSCRIBES_PER_WINDOW = 20;
export const SUBSCRIBE_WINDOW_MS = 10_000;

/**
 * The `/nodes` namespace. The handshake must carry `auth: { token }` (a token in the
 * URL query is refused, so it never reaches access logs); the token's clusters bound
 * what the socket may subscribe to, and the socket is disconnected when the token
 * expires. `subscribe` / `unsubscribe` always answer with an ack: `{ ok: true, ... }`
 * or `{ ok: false, error: { code, message } }`; a bad message never closes the
 * connection.
 */
@WebSocketGateway({ namespace: REALTIME_NAMESPACE })
export class NodesGateway
  implements OnGatewayInit<Namespace>, OnGatewayConnection<Socket>, OnGatewayDisconnect<Socket>
{
  private nsp: Namespace | undefined;

  constructor(
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    @Inject(OIDC) private readonly oidc: OidcServices | null,
    @Inject(NODE_STORE_READER) private readonly reader: NodeStoreReader,
    @Inject(ClusterFeed) private readonly feed: ClusterFeed,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(GATEWAY_ID) private readonly gatewayId: string,
    @Inject(AUTH_FAILURE_LIMITER) private readonly authFailures: RateLimiter,
    @Inject(TRUST_PROXY) private readonly trustProxy: TrustProxy,
    @Inject(SUBSCRIBE_RATE_LIMITER) private readonly subscribes: RateLimiter,
  ) {}

  afterInit(nsp: Namespace): void {
    this.nsp = nsp;
    nsp.use((socket, next) => {
      // Failed handshakes count against the client's address like REST 401s (shared limit).
      const address = this.trustProxy.clientAddress(
        socket.handshake.address,
        socket.handshake.headers['x-forwarded-for'],
      );
      void this.authFailures.peek(address).then(async (decision) => {
        if (!decision.allowed) {
          const refusal = authFailureRefusal(decision, address);
          next(
            Object.assign(new Error(refusal.message), {
              data: { statusCode: 429, retryAfterSeconds: refusal.retryAfterSeconds },
            }),
          );
          return;
        }
        try {
          await this.authenticate(socket);
          next();
        } catch (err) {
          const reason = err instanceof AuthenticationError ? err.reason : 'invalid';
          this.metrics.authFailures.inc({ transport: 'socket.io', reason });
          await this.authFailures.hit(address);
          const message = err instanceof Error ? err.message : 'authentication failed';
          next(Object.assign(new Error(message), { data: { statusCode: 401, reason } }));
        }
      });
    });
    nsp.on(STATS_EVENT, (ack: (stats: GatewayStats) => void) => {
      if (typeof ack === 'function') ack(this.localStats());
    });
  }

  handleConnection(socket: Socket): void {
    this.metrics.sockets.inc();
    // Socket.IO's reasons are a small fixed set: why sockets leave, for an operator telling
    // overloaded clients (ping timeouts) from networks and balancers (transport close).
    socket.once('disconnect', (reason) => this.metrics.socketDisconnects.inc({ reason }));
    // Flow control: every client acks a few times a second, so this is a plain listener
    // rather than a Nest message handler (no guards, pipes or answer). A malformed ack
    // is ignored: it can only slow its own socket down.
    socket.on(RealtimeEvents.ack, (body: unknown) => {
      const message = AckMessageSchema.safeParse(body);
      if (message.success) this.feed.ack(socket, message.data.cluster, message.data.seq, message.data.part);
    });
    const data = socket.data as SocketData;
    const welcome: WelcomeMessage = {
      protocol: PROTOCOL_VERSION,
      gateway: this.gatewayId,
      sub: data.principal.sub,
    };
    socket.emit(RealtimeEvents.welcome, welcome);
    // Per-user room: any replica can reach this user's sockets through the adapter.
    void socket.join(userRoom(data.principal.sub));
    const msLeft = data.principal.exp * 1000 - Date.now();
    data.expiryTimer = setTimeout(
      () => socket.disconnect(true),
      Math.min(Math.max(msLeft, 0), 2_147_483_647),
    );
    data.expiryTimer.unref();
  }

  handleDisconnect(socket: Socket): void {
    this.metrics.sockets.dec();
    const data = socket.data as Partial<SocketData>;
    if (data.expiryTimer) clearTimeout(data.expiryTimer);
    this.feed.dropSocket(socket);
  }

  @SubscribeMessage(RealtimeEvents.subscribe)
  async onSubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<SubscribeAck> {
    try {
      const message = decode(SubscribeMessageSchema, body, 'subscribe message');
      const data = socket.data as SocketData;
      assertClusterAccess(data.principal, message.cluster);
      if (!this.allowSubscribe(data)) {
        return errorAck(
          'too_many_requests',
          `more than ${MAX_SUBSCRIBES_PER_WINDOW} subscribes in ${SUBSCRIBE_WINDOW_MS / 1000} s on this socket; wait`,
        );
      }
      const perUser = await this.subscribes.hit(data.principal.sub);
      if (!perUser.allowed) {
        return errorAck(
          'too_many_requests',
          `too many subscribes by "${data.principal.sub}" over all its sockets; retry in ${Math.ceil(perUser.retryAfterMs / 1000)} s`,
        );
      }
      const summary = await this.reader.getCluster(message.cluster);
      if (!summary) {
        return errorAck('unknown_cluster', `cluster "${message.cluster}" is not registered`);
      }
      const options: Parameters<ClusterFeed['subscribe']>[2] = {
        currentSeq: summary.seq,
        epoch: summary.epoch,
      };
      if (message.sinceSeq !== undefined) options.sinceSeq = message.sinceSeq;
      if (message.maxRate !== undefined) options.maxRate = message.maxRate;
      if (message.encoding !== undefined) options.encoding = message.encoding;
      if (message.parts) options.parts = true;
      const seq = await this.feed.subscribe(socket, message.cluster, options);
      return { ok: true, seq };
    } catch (err) {
      return this.refusal(err, socket);
    }
  }

  @SubscribeMessage(RealtimeEvents.unsubscribe)
  onUnsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): UnsubscribeAck {
    try {
      const message = decode(UnsubscribeMessageSchema, body, 'unsubscribe message');
      this.feed.unsubscribe(socket, message.cluster);
      return { ok: true };
    } catch (err) {
      return this.refusal(err, socket);
    }
  }

  /** A sliding window of subscribes per socket: a resume costs a fold, a flood must not cost more. */
  private allowSubscribe(data: SocketData): boolean {
    const now = Date.now();
    const recent = (data.subscribes ?? []).filter((t) => now - t < SUBSCRIBE_WINDOW_MS);
    if (recent.length >= MAX_SUBSCRIBES_PER_WINDOW) {
      data.subscribes = recent;
      return false;
    }
    recent.push(now);
    data.subscribes = recent;
    return true;
  }

  /** This replica's realtime stats. */
  localStats(): GatewayStats {
    return this.feed.stats(this.nsp?.sockets.size ?? 0);
  }

  /** The namespace (after init). */
  get namespace(): Namespace {
    if (!this.nsp) throw new Error('the /nodes namespace is not initialised yet');
    return this.nsp;
  }

  private async authenticate(socket: Socket): Promise<void> {
    if (socket.handshake.query['token'] !== undefined) {
      throw new AuthenticationError(
        'invalid',
        'a token in the URL is refused (it would end up in access logs): send it as auth: { token }',
      );
    }
    const auth = socket.handshake.auth as Record<string, unknown> | undefined;
    const token = auth?.['token'];
    if (token !== undefined && typeof token !== 'string') {
      throw new AuthenticationError('invalid', 'auth.token must be a string');
    }
    // Without a token, a dashboard session cookie (the adapter has already checked the Origin).
    const session =
      (token === undefined || token === '') && this.oidc
        ? await this.oidc.sessions.fromRequest(socket.handshake.headers, false)
        : undefined;
    if (session === undefined && (token === undefined || token === '')) {
      throw new AuthenticationError('missing', 'no token: connect with auth: { token }');
    }
    const principal = session ?? (await this.verifier.verify(token));
    (socket.data as SocketData).principal = principal;
  }

  private refusal(err: unknown, socket: Socket): RealtimeErrorAck {
    if (err instanceof ContractError) return errorAck('bad_request', err.message);
    if (err instanceof ForbiddenError) return errorAck('forbidden', err.message);
    this.logger.error({ err, socket: socket.id }, 'realtime request failed');
    return errorAck('unavailable', 'the gateway cannot serve this request right now; retry');
  }
}

function errorAck(code: RealtimeErrorCode, message: string): RealtimeErrorAck {
  return { ok: false, error: { code, message } };
}
