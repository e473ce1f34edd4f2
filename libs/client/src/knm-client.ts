import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  ENVELOPE_TYPES,
  EnvelopeSchema,
  PROTOCOL_VERSION,
  REALTIME_NAMESPACE,
  RealtimeEvents,
  SubscribeAckSchema,
  TestMessageSchema,
  WelcomeMessageSchema,
  type TestMessage,
  toClusterName,
  type ClusterName,
  type SubscribeAck,
  type WelcomeMessage,
} from '@knm/contracts';
import { exponentialBackoff, type ReconnectBackoff } from './backoff.js';
import { BATCH_ENCODING, decodeBatch } from './batch-decoding.js';
import { ClusterWatch, type WatchHost } from './cluster-watch.js';
import { RestClient } from './rest-client.js';
import { TypedEmitter } from './typed-emitter.js';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /**
   * Gateway base URL (`http://host:8080`), usually a load balancer; or several
   * gateways, tried in turn when one cannot be reached.
   */
  url: string | readonly string[];
  /** Bearer token, or a function returning the current one (called on every request and handshake). */
  token: string | (() => string | Promise<string>);
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Extra socket.io-client options (transports default to websocket only). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
  /**
   * Delay between reconnection attempts. Default exponential 500 ms .. 10 s with full
   * jitter (each delay drawn from [0, bound]), so the clients of a gateway that went
   * away do not all come back in the same instant.
   */
  backoff?: ReconnectBackoff;
  /** Subscribe ack timeout. Default 10,000 ms. */
  ackTimeoutMs?: number;
}

/** The gateway speaks another realtime protocol version than this client. */
export class IncompatibleGatewayError extends Error {
  override readonly name = 'IncompatibleGatewayError';
}

/** Connection state of a {@link KnmClient}. */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** Events of a {@link KnmClient}. */
export interface ClientEvents extends Record<string, unknown> {
  state: ConnectionState;
  /** A handshake or connection failure (the client retries with backoff). */
  error: Error;
  /** The gateway's greeting after each successful handshake. */
  welcome: WelcomeMessage;
  /** An admin's end-to-end test message (`POST /api/v1/ws/test`); acknowledged automatically. */
  test: TestMessage;
}

/**
 * A connection to knm gateways: typed REST calls (`rest`) and live cluster views
 * (`watchCluster`). One Socket.IO connection to `/nodes` (websocket transport, token
 * in the handshake `auth`, never in the URL). When it drops, the client reconnects
 * with backoff, to the next URL when several are given, and every watch resumes
 * from its last seq.
 */
export class KnmClient extends TypedEmitter<ClientEvents> implements WatchHost {
  readonly rest: RestClient;
  readonly backoff: ReconnectBackoff;
  private socket: Socket | undefined;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly watches = new Map<ClusterName, ClusterWatch>();
  private currentState: ConnectionState = 'connecting';
  private welcomeMessage: WelcomeMessage | undefined;

  constructor(private readonly options: ConnectOptions) {
    super();
    const urls = typeof options.url === 'string' ? [options.url] : [...options.url];
    this.rest = new RestClient({
      urls: urls.map((u) => u.replace(/\/+$/, '')),
      token: options.token,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.backoff = options.backoff ?? exponentialBackoff({ initialMs: 500, jitter: 1 });
    this.open();
  }

  /** Whether the realtime connection is up. */
  get connected(): boolean {
    return this.currentState === 'connected';
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The gateway replica the connection is on (from its welcome), while connected. */
  get gateway(): string | undefined {
    return this.connected ? this.welcomeMessage?.gateway : undefined;
  }

  /** The live view of `cluster` (one per cluster and client; calling again returns the same watch). */
  watchCluster(name: string): ClusterWatch {
    const cluster = toClusterName(name);
    let watch = this.watches.get(cluster);
    if (!watch) {
      watch = new ClusterWatch(cluster, this);
      this.watches.set(cluster, watch);
      if (this.connected) watch.onConnected();
    }
    return watch;
  }

  /** Closes every watch and the connection. */
  close(): void {
    if (this.currentState === 'closed') return;
    for (const watch of [...this.watches.values()]) watch.close();
    this.setState('closed');
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.dropSocket();
  }

  /** @internal */
  async subscribe(cluster: ClusterName, sinceSeq: number): Promise<SubscribeAck> {
    const socket = this.socket;
    if (!socket?.connected) throw new Error('not connected');
    const raw: unknown = await socket
      .timeout(this.options.ackTimeoutMs ?? 10_000)
      .emitWithAck(RealtimeEvents.subscribe, { cluster, sinceSeq, encoding: BATCH_ENCODING, parts: true });
    return SubscribeAckSchema.parse(raw);
  }

  /** @internal */
  ack(cluster: ClusterName, seq: number, part?: number): void {
    if (this.socket?.connected)
      this.socket.emit(RealtimeEvents.ack, part === undefined ? { cluster, seq } : { cluster, seq, part });
  }

  /** @internal */
  unsubscribe(cluster: ClusterName): void {
    if (this.socket?.connected) this.socket.emit(RealtimeEvents.unsubscribe, { cluster }, () => undefined);
  }

  /** @internal */
  forget(watch: ClusterWatch): void {
    if (this.watches.get(watch.cluster) === watch) this.watches.delete(watch.cluster);
  }

  private open(): void {
    if (this.currentState === 'closed') return;
    this.setState('connecting');
    const socket = io(`${this.rest.currentUrl}${REALTIME_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      ...this.options.socketOptions,
      auth: (cb: (data: object) => void) => {
        void this.rest.token().then(
          (token) => cb({ token }),
          () => cb({}),
        );
      },
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.attempts = 0;
      this.setState('connected');
      for (const watch of this.watches.values()) watch.onConnected();
    });
    socket.on(RealtimeEvents.welcome, (raw: unknown) => {
      const welcome = WelcomeMessageSchema.safeParse(raw);
      if (!welcome.success) {
        this.incompatible(`the gateway's welcome is not one of protocol ${PROTOCOL_VERSION}`);
        return;
      }
      if (welcome.data.protocol !== PROTOCOL_VERSION) {
        this.incompatible(
          `the gateway speaks realtime protocol ${welcome.data.protocol}; this client speaks ${PROTOCOL_VERSION}`,
        );
        return;
      }
      this.welcomeMessage = welcome.data;
      this.emit('welcome', welcome.data);
    });
    for (const type of ENVELOPE_TYPES) {
      socket.on(type, (raw: unknown) => {
        const envelope = EnvelopeSchema.safeParse(raw);
        if (!envelope.success || envelope.data.type !== type) {
          const why = envelope.success ? `its type is ${envelope.data.type}` : envelope.error.message;
          this.emit('error', new Error(`dropped a malformed ${type} event: ${why}`));
          return;
        }
        this.watches.get(envelope.data.cluster)?.onEnvelope(envelope.data);
      });
    }
    socket.on(RealtimeEvents.test, (raw: unknown, ack?: (answer: { ok: boolean }) => void) => {
      const message = TestMessageSchema.safeParse(raw);
      if (typeof ack === 'function') ack({ ok: message.success });
      if (message.success) this.emit('test', message.data);
    });
    socket.on(RealtimeEvents.batch, (raw: unknown) => {
      const decoded = decodeBatch(raw);
      if (!decoded.ok) {
        this.emit('error', new Error(`dropped a malformed batch: ${decoded.error}`));
        return;
      }
      this.watches.get(decoded.batch.cluster)?.onBatch(decoded.batch);
    });
    socket.on('connect_error', (err) => {
      this.emit('error', err);
      this.reconnect();
    });
    socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect') return;
      this.reconnect();
    });
  }

  /** The gateway speaks another protocol: stop for good, saying so (retrying cannot help). */
  private incompatible(message: string): void {
    const err = new IncompatibleGatewayError(message);
    this.emit('error', err);
    for (const watch of this.watches.values()) watch.onIncompatible(err);
    this.close();
  }

  private reconnect(): void {
    if (this.currentState === 'closed' || this.reconnectTimer) return;
    this.dropSocket();
    this.setState('disconnected');
    for (const watch of this.watches.values()) watch.onDisconnected();
    this.attempts += 1;
    this.rest.rotate();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.open();
    }, this.backoff.delayMs(this.attempts));
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    socket.removeAllListeners();
    socket.disconnect();
  }

  private setState(state: ConnectionState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.emit('state', state);
  }
}

/** Connects to knm gateways; see {@link KnmClient}. */
export function connect(options: ConnectOptions): KnmClient {
  return new KnmClient(options);
}
