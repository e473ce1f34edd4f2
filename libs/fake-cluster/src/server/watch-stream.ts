import type { ServerResponse } from 'node:http';
import type { JsonObject, KubeObject, StoredKind } from '../api/kube-object.js';
import type { ChangeEvent, ChangeType } from '../store/change-log.js';

/** A watch event type on the wire. */
export type WatchEventType = ChangeType | 'BOOKMARK' | 'ERROR';

/** How a watch serialises objects: plain JSON, or Table rows for kubectl. Same `key` = same bytes. */
export interface WatchFormat {
  readonly key: string;
  objectJson(object: KubeObject): string;
}

/** The plain JSON format (objects as stored). */
export const JSON_FORMAT: WatchFormat = { key: 'json', objectJson: (o) => JSON.stringify(o) };

/** Options of {@link WatchStream}. */
export interface WatchStreamOptions {
  kind: StoredKind;
  apiVersion: string;
  /** Whether an object is selected by this watch (namespace and selectors). */
  matches(object: KubeObject): boolean;
  format: WatchFormat;
  /** Send periodic BOOKMARKs (`allowWatchBookmarks=true`). */
  bookmarks: boolean;
  /** Interval between BOOKMARKs in ms. */
  bookmarkIntervalMs: number;
  /** Close the stream cleanly after this many ms (`timeoutSeconds`); undefined = never. */
  timeoutMs: number | undefined;
  /** The cluster's current resourceVersion (what a BOOKMARK carries). */
  currentRv(): number;
  /** A watcher that lets this many bytes pile up unread is disconnected. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** Called once when the stream has ended for any reason. */
  onClose(stream: WatchStream): void;
}

/**
 * One open watch: a chunked HTTP response of newline-delimited JSON events.
 *
 * Contract: events are written in resourceVersion order; an object that stops
 * matching the watch's selectors arrives as DELETED and one that starts matching as
 * ADDED (what the API server's watch cache does); a stalled stream writes nothing at
 * all (not even bookmarks) until it is ended. Listens on `res` 'close' (not the
 * request's, which fires once the request body has been read).
 */
export class WatchStream {
  /** While true, nothing is written (a simulated silent stall). */
  stalled = false;
  private closed = false;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private readonly maxBuffered: number;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: WatchStreamOptions,
  ) {
    this.maxBuffered = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    res.on('close', () => this.cleanup());
    if (options.bookmarks) {
      this.bookmarkTimer = setInterval(() => this.sendBookmark(), options.bookmarkIntervalMs);
      this.bookmarkTimer.unref();
    }
    if (options.timeoutMs !== undefined) {
      this.timeoutTimer = setTimeout(() => this.end(), options.timeoutMs);
      this.timeoutTimer.unref();
    }
  }

  get kind(): StoredKind {
    return this.options.kind;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends a synthetic event (initial state) for `object`. */
  sendObject(type: ChangeType, object: KubeObject): void {
    if (this.stalled || this.closed) return;
    this.write(frame(type, this.options.format.objectJson(object)));
  }

  /**
   * Delivers one stored change, translated through the selectors. During a live
   * fan-out (`shareBytes`) the frame bytes are cached on the event and shared with
   * every watcher of the same format; a replay from the log does not cache them.
   */
  deliver(event: ChangeEvent, shareBytes = true): void {
    if (this.stalled || this.closed || event.kind !== this.options.kind) return;
    const type = this.translate(event);
    if (type === undefined) return;
    const cacheKey = `${type}|${this.options.format.key}`;
    let bytes = event.encoded?.get(cacheKey);
    if (bytes === undefined) {
      bytes = frame(type, this.options.format.objectJson(event.object));
      if (shareBytes) (event.encoded ??= new Map()).set(cacheKey, bytes);
    }
    this.write(bytes);
  }

  /** Sends a BOOKMARK at the current version (optionally the initial-events-end one). */
  sendBookmark(initialEventsEnd = false): void {
    if (this.stalled || this.closed) return;
    const metadata: JsonObject = { resourceVersion: String(this.options.currentRv()) };
    if (initialEventsEnd) metadata['annotations'] = { 'k8s.io/initial-events-end': 'true' };
    const object = { kind: this.options.kind, apiVersion: this.options.apiVersion, metadata };
    this.write(frame('BOOKMARK', JSON.stringify(object)));
  }

  /** Sends one ERROR event carrying `status` and ends the stream. */
  sendErrorAndEnd(status: JsonObject): void {
    if (this.closed) return;
    this.write(frame('ERROR', JSON.stringify(status)));
    this.end();
  }

  /** Ends the stream cleanly (the terminating chunk is sent; clients see a normal end). */
  end(): void {
    if (this.closed) return;
    this.res.end();
    this.cleanup();
  }

  /** Drops the connection abruptly (clients see a reset). */
  destroy(): void {
    if (this.closed) return;
    this.res.destroy();
    this.cleanup();
  }

  private translate(event: ChangeEvent): ChangeType | undefined {
    const { matches } = this.options;
    if (event.type === 'ADDED') return matches(event.object) ? 'ADDED' : undefined;
    if (event.type === 'DELETED') return matches(event.object) ? 'DELETED' : undefined;
    const before = event.previous !== undefined && matches(event.previous);
    const after = matches(event.object);
    if (before && after) return 'MODIFIED';
    if (after) return 'ADDED';
    if (before) return 'DELETED';
    return undefined;
  }

  private write(bytes: Buffer): void {
    if (this.res.writableLength > this.maxBuffered) {
      // A consumer this far behind would get stale data forever; the API server drops it too.
      this.destroy();
      return;
    }
    this.res.write(bytes);
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.options.onClose(this);
  }
}

function frame(type: WatchEventType, objectJson: string): Buffer {
  return Buffer.from(`{"type":"${type}","object":${objectJson}}\n`, 'utf8');
}
