import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ApiStatusError, statusErrors } from '../api/api-status.js';
import { DEV_TLS_CERT, DEV_TLS_KEY } from './dev-certificate.js';
import { versionInfo } from '../api/discovery.js';
import type { Truth } from '../sim/truth.js';
import {
  ObjectExistsError,
  ObjectNotFoundError,
  ResourceVersionConflictError,
} from '../store/store-errors.js';
import { resourceOfKind } from '../resource-registry.js';
import type { ApiContext } from './api-context.js';
import { routeApiRequest } from './api-router.js';
import { FaultState } from './fault-state.js';
import { parseJsonBody, readBody, sendJson, sendStatusError } from './http-io.js';
import {
  ChurnRequestSchema,
  FaultsRequestSchema,
  HeartbeatRequestSchema,
  KubeletRequestSchema,
  StepRequestSchema,
  type FaultsResponse,
  type SimStats,
} from './sim-control-schemas.js';
import { silentLogger, type SimLogger } from './sim-logger.js';

/** What `/_sim/*` drives: the simulation behind the server. */
export interface SimControl {
  truth(): Truth;
  readonly churnRate: number;
  readonly churnEvents: number;
  readonly churnDropped: number;
  setChurnRate(rate: number): void;
  setHeartbeatSeconds(seconds: number): void;
  /** Cuts a node's kubelet off from the API server (false) or reconnects it (true). */
  setKubeletReachable(node: string, reachable: boolean): void;
  /** Runs `events` churn events at once. */
  step(events: number): void;
  pause(): void;
  resume(): void;
  readonly paused: boolean;
}

/** Options of {@link KubeApiServer}. */
export interface KubeApiServerOptions {
  ctx: ApiContext;
  control: SimControl;
  /** Bearer token every Kubernetes API request must carry. */
  token: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Port of the plain-HTTP listener (`url`). Default 0 (the OS picks). */
  port?: number;
  /**
   * TLS for the second listener (`httpsUrl`), which the kubeconfig points at because
   * kubectl sends bearer tokens only over TLS. Default: the development certificate
   * (DEV_TLS_CERT); `false`: no HTTPS listener.
   */
  tls?: { cert: string; key: string } | false;
  /** Port of the HTTPS listener. Default 0 (the OS picks). */
  tlsPort?: number;
  /** Minor version `/version` reports (the kubectl dispatcher picks its binary by it). Default 32. */
  kubernetesMinor?: number;
  /** Default: silent. */
  logger?: SimLogger;
}

const OPEN_PATHS = new Set(['/healthz', '/readyz', '/livez', '/version']);

/**
 * The HTTP face of kube-sim (node:http, keep-alive): the Kubernetes API under
 * `/api` and `/apis` behind a bearer token, health and version endpoints, and the
 * `/_sim/*` control API (JSON bodies validated with zod; 400 on bad input). Every
 * error is answered as a full metav1.Status.
 */
export class KubeApiServer {
  readonly faults: FaultState;
  private readonly servers: { server: Server; port: number; scheme: 'http' | 'https' }[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly logger: SimLogger;
  private readonly host: string;
  private readonly minor: number;
  private readonly responsesByCode: Record<string, number> = {};
  private requests = 0;
  private evictionsRejected = 0;
  private downTimer: NodeJS.Timeout | undefined;
  private downUntil: number | undefined;
  private compactedAt: string | undefined;
  private closed = false;

  constructor(private readonly options: KubeApiServerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.host = options.host ?? '127.0.0.1';
    this.minor = options.kubernetesMinor ?? 32;
    this.faults = new FaultState();
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      void this.handle(req, res);
    };
    const serverOptions = { keepAliveTimeout: 60_000, requestTimeout: 0 };
    this.servers.push({
      server: createServer(serverOptions, handler),
      port: options.port ?? 0,
      scheme: 'http',
    });
    const tls = options.tls === undefined ? { cert: DEV_TLS_CERT, key: DEV_TLS_KEY } : options.tls;
    if (tls !== false) {
      this.servers.push({
        server: createTlsServer({ ...serverOptions, cert: tls.cert, key: tls.key }, handler),
        port: options.tlsPort ?? 0,
        scheme: 'https',
      });
    }
    for (const { server } of this.servers) {
      server.on('connection', (socket: Socket) => this.track(socket));
    }
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** The plain-HTTP base URL (`http://127.0.0.1:<port>`), valid after {@link listen}. */
  get url(): string {
    return `http://${this.clientHost}:${this.port}`;
  }

  /** The HTTPS base URL (what the kubeconfig names), or undefined without TLS. */
  get httpsUrl(): string | undefined {
    const tls = this.servers.find((s) => s.scheme === 'https');
    return tls ? `https://${this.clientHost}:${tls.port}` : undefined;
  }

  /** The plain-HTTP port. */
  get port(): number {
    return this.servers[0]?.port ?? 0;
  }

  /** The host clients connect to (127.0.0.1 when listening on every interface). */
  private get clientHost(): string {
    return this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host;
  }

  /** Starts listening (on the configured ports, or the ones already bound after a simulated outage). */
  async listen(): Promise<void> {
    for (const entry of this.servers) {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        entry.server.once('error', onError);
        entry.server.listen(entry.port, this.host, () => {
          entry.server.off('error', onError);
          const address = entry.server.address();
          if (address && typeof address === 'object') entry.port = address.port;
          resolve();
        });
      });
    }
  }

  /**
   * Simulates an outage: closes the listener and every connection (so clients get
   * ECONNREFUSED / resets), then listens again on the same port after `seconds`.
   */
  goDown(seconds: number): void {
    this.downUntil = Date.now() + seconds * 1000;
    this.options.ctx.hub.dropAll('destroy');
    for (const { server } of this.servers) {
      server.close();
      server.closeAllConnections();
    }
    for (const socket of this.sockets) socket.destroy();
    if (this.downTimer) clearTimeout(this.downTimer);
    this.downTimer = setTimeout(() => {
      this.downTimer = undefined;
      this.downUntil = undefined;
      if (this.closed) return;
      this.listen().then(
        () => this.logger.info({ url: this.url }, 'kube-sim back up after simulated outage'),
        (err: unknown) =>
          this.logger.error({ err }, 'kube-sim could not listen again after simulated outage'),
      );
    }, seconds * 1000);
    this.logger.warn({ seconds }, 'kube-sim down (simulated outage)');
  }

  /** Stops listening, ends every watch and connection. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.downTimer) clearTimeout(this.downTimer);
    this.options.ctx.hub.dropAll('end');
    await Promise.all(
      this.servers.map(
        ({ server }) =>
          new Promise<void>((resolve) => {
            if (!server.listening) return resolve();
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    for (const socket of this.sockets) socket.destroy();
  }

  /** Request and watch counters. */
  stats(): SimStats {
    const { cluster, hub } = this.options.ctx;
    return {
      resourceVersion: String(cluster.store.resourceVersion),
      nodes: cluster.store.kind('Node').size,
      pods: cluster.store.kind('Pod').size,
      openWatches: hub.size,
      requests: this.requests,
      responsesByCode: { ...this.responsesByCode },
      evictionsRejected: this.evictionsRejected,
      churnRate: this.options.control.churnRate,
      churnEvents: this.options.control.churnEvents,
      churnDropped: this.options.control.churnDropped,
      paused: this.options.control.paused,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests++;
    res.on('finish', () => {
      const code = String(res.statusCode);
      this.responsesByCode[code] = (this.responsesByCode[code] ?? 0) + 1;
    });
    const url = new URL(req.url ?? '/', 'http://kube-sim');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    try {
      if (path.startsWith('/_sim/')) {
        await this.handleControl(req, res, path);
        return;
      }
      if (OPEN_PATHS.has(path)) {
        this.handleOpen(res, path);
        return;
      }
      if (!this.authorized(req)) {
        sendStatusError(res, statusErrors.unauthorized());
        return;
      }
      if (this.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
      const injected = this.faults.pickError();
      if (injected) throw injected;
      await routeApiRequest(this.options.ctx, req, res, url, `${this.clientHost}:${this.port}`);
    } catch (err) {
      this.answerError(req, res, err);
    }
  }

  private answerError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    let status: ApiStatusError;
    if (err instanceof ApiStatusError) status = err;
    else if (err instanceof ObjectNotFoundError) {
      const def = resourceOfKind(err.kind);
      status = statusErrors.notFound(def.plural, err.key.split('/').pop() ?? err.key, def.group || undefined);
    } else if (err instanceof ObjectExistsError) {
      const def = resourceOfKind(err.kind);
      status = statusErrors.alreadyExists(
        def.plural,
        err.key.split('/').pop() ?? err.key,
        def.group || undefined,
      );
    } else if (err instanceof ResourceVersionConflictError) {
      const def = resourceOfKind(err.kind);
      status = statusErrors.conflict(
        def.plural,
        err.key.split('/').pop() ?? err.key,
        'the object has been modified; please apply your changes to the latest version and try again',
        def.group || undefined,
      );
    } else {
      this.logger.error({ err, method: req.method, url: req.url }, 'kube-sim request failed');
      status = statusErrors.internal(err instanceof Error ? err.message : String(err));
    }
    if (status.code === 429 && req.url?.includes('/eviction')) this.evictionsRejected++;
    if (status.code >= 500 || status.code === 429) {
      this.logger.debug(
        { method: req.method, url: req.url, code: status.code },
        'kube-sim answered an error',
      );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendStatusError(res, status);
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) return false;
    const given = Buffer.from(header.slice('Bearer '.length).trim());
    const expected = Buffer.from(this.options.token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private handleOpen(res: ServerResponse, path: string): void {
    if (path === '/version') {
      sendJson(res, 200, versionInfo({ kubernetesMinor: this.minor }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
    res.end('ok');
  }

  private async handleControl(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const { control, ctx } = this.options;
    const method = req.method ?? 'GET';
    const body = method === 'POST' ? await readBody(req) : '';
    const decode = <T>(schema: z.ZodType<T>): T => {
      const parsed = schema.safeParse(body.trim() === '' ? {} : parseJsonBody(body));
      if (!parsed.success)
        throw statusErrors.badRequest(`invalid ${path} body: ${z.prettifyError(parsed.error)}`);
      return parsed.data;
    };
    const route = `${method} ${path}`;
    switch (route) {
      case 'GET /_sim/truth':
        return sendJson(res, 200, control.truth());
      case 'GET /_sim/stats':
        return sendJson(res, 200, this.stats());
      case 'POST /_sim/churn': {
        const { rate } = decode(ChurnRequestSchema);
        control.setChurnRate(rate);
        this.logger.info({ rate }, 'churn rate set');
        return sendJson(res, 200, { rate });
      }
      case 'POST /_sim/heartbeat': {
        const { seconds } = decode(HeartbeatRequestSchema);
        control.setHeartbeatSeconds(seconds);
        return sendJson(res, 200, { seconds });
      }
      case 'POST /_sim/kubelet': {
        const { node, reachable } = decode(KubeletRequestSchema);
        control.setKubeletReachable(node, reachable);
        return sendJson(res, 200, { node, reachable });
      }
      case 'POST /_sim/step': {
        const { events } = decode(StepRequestSchema);
        control.step(events);
        return sendJson(res, 200, { events, resourceVersion: String(ctx.cluster.store.resourceVersion) });
      }
      case 'POST /_sim/pause':
        control.pause();
        this.logger.info({}, 'simulation paused');
        return sendJson(res, 200, { paused: true });
      case 'POST /_sim/resume':
        control.resume();
        this.logger.info({}, 'simulation resumed');
        return sendJson(res, 200, { paused: false });
      case 'POST /_sim/faults':
        return sendJson(res, 200, this.applyFaults(decode(FaultsRequestSchema)));
      default:
        throw new ApiStatusError(404, 'NotFound', `no kube-sim control endpoint ${route}`);
    }
  }

  private applyFaults(request: z.infer<typeof FaultsRequestSchema>): FaultsResponse {
    const { ctx } = this.options;
    let dropped = 0;
    if (request.clear) {
      this.faults.clear();
      ctx.hub.setStalled(false);
    }
    if (request.errorRate) {
      const { fraction, status, seconds } = request.errorRate;
      this.faults.errorRate =
        fraction === 0
          ? undefined
          : { fraction, status, until: seconds !== undefined ? Date.now() + seconds * 1000 : undefined };
    }
    if (request.latencyMs !== undefined) this.faults.latencyMs = request.latencyMs;
    if (request.compact) {
      ctx.cluster.store.compact();
      ctx.snapshots.clear();
      this.compactedAt = String(ctx.cluster.store.resourceVersion);
    }
    if (request.stallWatches !== undefined) ctx.hub.setStalled(request.stallWatches);
    if (request.dropWatches) dropped += ctx.hub.dropAll('end');
    if (request.resetWatches) dropped += ctx.hub.dropAll('destroy');
    this.logger.warn({ request }, 'faults applied');
    const response: FaultsResponse = {
      errorRate: this.faults.errorRate
        ? {
            fraction: this.faults.errorRate.fraction,
            status: this.faults.errorRate.status,
            until: this.faults.errorRate.until ?? null,
          }
        : null,
      latencyMs: this.faults.latencyMs,
      stallWatches: ctx.hub.stalled,
      droppedWatches: dropped,
      compactedAt: this.compactedAt ?? null,
      downUntil: this.downUntil ?? null,
    };
    if (request.downForSeconds !== undefined) {
      // Answer first, then go down: the caller learns its request was applied.
      const seconds = request.downForSeconds;
      response.downUntil = Date.now() + seconds * 1000;
      setTimeout(() => this.goDown(seconds), 20).unref();
    }
    return response;
  }
}
