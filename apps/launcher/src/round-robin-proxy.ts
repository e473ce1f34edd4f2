import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** A gateway the proxy forwards to. */
export interface ProxyBackend {
  host: string;
  port: number;
}

/** Options of {@link RoundRobinProxy.start}. */
export interface RoundRobinProxyOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 = any free port. Default 0. */
  port?: number;
  /** Backends to start with (see {@link RoundRobinProxy.setBackends}). Default none. */
  backends?: readonly ProxyBackend[];
  /** Called for each request or upgrade that no backend could take. Default: nothing. */
  onError?: (what: string, err: Error) => void;
}

/** Requests and upgrades forwarded per backend (`host:port`). */
export interface ProxyStats {
  requests: Record<string, number>;
  upgrades: Record<string, number>;
  failed: number;
}

/** Methods whose request has no body the proxy would have consumed, so a refused connect may go to the next backend. */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * A deliberately plain load balancer for `npm start`: every HTTP request and every
 * WebSocket upgrade goes to the next backend in turn, with no stickiness of any kind
 * (no cookie, no client hash), which is what the gateways are designed for. A
 * backend that refuses the connection is skipped for that request (GET/HEAD/OPTIONS
 * and upgrades), so stopping one gateway does not fail requests. The Host header is
 * kept (same-origin checks see the public origin); `x-forwarded-for`/`-proto`/`-host`
 * are added. Upgrades are piped as raw TCP after the request head is replayed.
 */
export class RoundRobinProxy {
  private backends: ProxyBackend[] = [];
  private next = 0;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly tunnels = new Set<Duplex>();
  private readonly counts: ProxyStats = { requests: {}, upgrades: {}, failed: 0 };

  private constructor(
    private readonly server: Server,
    private readonly onError: (what: string, err: Error) => void,
  ) {}

  /** Listens and resolves once the port is bound. */
  static async start(options: RoundRobinProxyOptions = {}): Promise<RoundRobinProxy> {
    const server = createServer();
    const proxy = new RoundRobinProxy(server, options.onError ?? (() => undefined));
    proxy.setBackends(options.backends ?? []);
    server.on('request', (req, res) => proxy.forward(req, res, proxy.order()));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      proxy.tunnel(req, socket, head, proxy.order()),
    );
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => refuseMalformed(err, socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** The port it listens on. */
  get port(): number {
    const address = this.server.address();
    return address && typeof address === 'object' ? address.port : -1;
  }

  /** Replaces the backends; the rotation continues over the new list. */
  setBackends(backends: readonly ProxyBackend[]): void {
    this.backends = backends.map((b) => ({ ...b }));
  }

  /** Counts so far (a copy). */
  stats(): ProxyStats {
    return structuredClone(this.counts);
  }

  /** Stops listening, cuts open tunnels and connections, resolves when closed. */
  async close(): Promise<void> {
    for (const t of this.tunnels) t.destroy();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.agent.destroy();
    await closed;
  }

  /** The backends in the order this request tries them: the next one first, then the others. */
  private order(): ProxyBackend[] {
    const n = this.backends.length;
    if (n === 0) return [];
    const start = this.next % n;
    this.next = (start + 1) % n;
    return [...this.backends.slice(start), ...this.backends.slice(0, start)];
  }

  private forward(req: IncomingMessage, res: ServerResponse, candidates: ProxyBackend[]): void {
    const backend = candidates[0];
    if (!backend) {
      this.counts.failed += 1;
      sendError(res, 503, 'no gateway is available yet; retry in a moment');
      return;
    }
    const key = `${backend.host}:${backend.port}`;
    const upstream = httpRequest({
      host: backend.host,
      port: backend.port,
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req),
      agent: this.agent,
    });
    let responded = false;
    upstream.on('response', (upRes) => {
      responded = true;
      this.counts.requests[key] = (this.counts.requests[key] ?? 0) + 1;
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(upRes.headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (responded) {
        res.destroy();
        return;
      }
      const refused = err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET';
      if (refused && RETRYABLE.has(req.method ?? '') && candidates.length > 1) {
        this.forward(req, res, candidates.slice(1));
        return;
      }
      this.counts.failed += 1;
      this.onError(`${req.method ?? '?'} ${req.url ?? ''} -> ${key}`, err);
      if (!res.headersSent) sendError(res, 502, `gateway ${key} failed: ${err.message}`);
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (RETRYABLE.has(req.method ?? '')) upstream.end();
    else req.pipe(upstream);
  }

  private tunnel(req: IncomingMessage, client: Duplex, head: Buffer, candidates: ProxyBackend[]): void {
    const backend = candidates[0];
    if (!backend) {
      this.counts.failed += 1;
      client.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const key = `${backend.host}:${backend.port}`;
    const upstream: Socket = connect(backend.port, backend.host);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.counts.upgrades[key] = (this.counts.upgrades[key] ?? 0) + 1;
      this.tunnels.add(client);
      this.tunnels.add(upstream);
      upstream.setNoDelay(true);
      upstream.write(requestHead(req));
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (err) => {
      if (!connected && candidates.length > 1) {
        this.tunnel(req, client, head, candidates.slice(1));
        return;
      }
      if (!connected) {
        this.counts.failed += 1;
        this.onError(`upgrade ${req.url ?? ''} -> ${key}`, err);
        client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      client.destroy();
    });
    const cleanup = (): void => {
      this.tunnels.delete(client);
      this.tunnels.delete(upstream);
    };
    upstream.on('close', () => {
      cleanup();
      if (connected) client.destroy();
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => {
      cleanup();
      upstream.destroy();
    });
  }
}

function forwardedHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
  }
  const remote = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${remote}` : remote;
  headers['x-forwarded-proto'] ??= 'http';
  if (req.headers.host !== undefined) headers['x-forwarded-host'] ??= req.headers.host;
  return headers;
}

/** The upgrade request's head, replayed to the backend byte for byte (raw header names and order). */
function requestHead(req: IncomingMessage): string {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i] ?? ''}: ${raw[i + 1] ?? ''}`);
  lines.push(`X-Forwarded-For: ${req.socket.remoteAddress ?? ''}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Answers a request the proxy's own HTTP parser refused (over-long URL or headers, a
 * control byte in a header, a bad chunk) the way the gateway would have: 431 for
 * headers too large (the URL counts), else 400, with a JSON error body, then closes.
 * Destroying the socket instead gave the client an empty reply and no reason.
 */
function refuseMalformed(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const body = JSON.stringify({
    statusCode: status,
    error: status === 431 ? 'Request Header Fields Too Large' : 'Bad Request',
    message:
      status === 431
        ? 'the request line and headers are too large (at most 16 KiB)'
        : `malformed HTTP request (${err.code ?? 'unreadable'})`,
  });
  socket.end(
    `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function sendError(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({
    statusCode: status,
    error: status === 503 ? 'Service Unavailable' : 'Bad Gateway',
    message,
  });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
