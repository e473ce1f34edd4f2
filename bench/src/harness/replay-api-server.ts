/**
 * A Kubernetes API server that answers from a {@link WatchRecording}: the recorded
 * list pages (their `continue` tokens are page indexes) and, on the Pod watch from
 * the recorded list's resourceVersion, the recorded stream, written as fast as the
 * socket takes it once {@link ReplayApiServer.release} is called. Other watches stay
 * open and silent. It answers nothing else: what a watcher with `--initial-sync
 * list --metrics-interval 0` asks for.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListRecording, WatchRecording } from './watch-recording.js';

const WRITE_CHUNK = 64 * 1024;

export class ReplayApiServer {
  private readonly open = new Set<ServerResponse>();
  private podWatch: ServerResponse | undefined;
  private releaseRequested = false;
  private podWatchArrived: (() => void) | undefined;
  private firstByteAt: number | undefined;
  private lastByteAt: number | undefined;

  private constructor(
    private readonly server: Server,
    private readonly recording: WatchRecording,
  ) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
  }

  static async start(recording: WatchRecording): Promise<ReplayApiServer> {
    const server = createServer();
    const replay = new ReplayApiServer(server, recording);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return replay;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** `performance.now()` when the recorded stream's first byte was written (undefined before). */
  get startedAt(): number | undefined {
    return this.firstByteAt;
  }

  /** `performance.now()` when its last byte was handed to the socket. */
  get writtenAt(): number | undefined {
    return this.lastByteAt;
  }

  /** Resolves once the watcher has opened the Pod watch (its list is done). */
  podWatchOpened(): Promise<void> {
    if (this.podWatch) return Promise.resolve();
    return new Promise((resolve) => (this.podWatchArrived = resolve));
  }

  /** Starts writing the recorded Pod watch (now, or as soon as the watcher asks for it). */
  release(): void {
    this.releaseRequested = true;
    if (this.podWatch) void this.write(this.podWatch);
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://replay');
    const list =
      url.pathname === '/api/v1/nodes'
        ? this.recording.nodes
        : url.pathname === '/api/v1/pods'
          ? this.recording.pods
          : undefined;
    if (!list) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"kind":"Status","status":"Failure","code":404}');
      return;
    }
    const watching = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    if (!watching) {
      this.page(list, url, res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
    const fromRecordedList = url.searchParams.get('resourceVersion') === this.recording.pods.resourceVersion;
    if (url.pathname === '/api/v1/pods' && fromRecordedList && !this.podWatch) {
      this.podWatch = res;
      this.podWatchArrived?.();
      if (this.releaseRequested) void this.write(res);
    }
  }

  private page(list: ListRecording, url: URL, res: ServerResponse): void {
    const index = Number(url.searchParams.get('continue') ?? '0');
    const page = list.pages[index];
    if (!page) {
      res
        .writeHead(410, { 'content-type': 'application/json' })
        .end('{"kind":"Status","status":"Failure","code":410,"reason":"Expired"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': page.length }).end(page);
  }

  private async write(res: ServerResponse): Promise<void> {
    const body = this.recording.podWatch;
    this.firstByteAt = performance.now();
    for (let offset = 0; offset < body.length; offset += WRITE_CHUNK) {
      if (res.destroyed) return;
      if (!res.write(body.subarray(offset, offset + WRITE_CHUNK))) {
        await new Promise<void>((resolve) => {
          const go = (): void => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.on('drain', go);
          res.on('close', go);
        });
      }
    }
    this.lastByteAt = performance.now();
  }
}
