import type { ServerResponse } from 'node:http';
import type { JsonObject, KubeObject, StoredKind } from '../api/kube-object.js';
import type { StoredChange, ChangeType } from '../store/change-log.js';

/** A watch event type on the wire. */
export type WatchEventType = ChangeType | 'BOOKMARK' | 'ERROR';

/** How a watch serialises objects: plain JSON, or Table rows for kubectl. Same `key` = same bytes. */
export interface WatchFormat {
  readonly key: string;
  objectJson(object: KubeObject): string;
}

/** The plain JSON format (objects as stored). */
export const JSON_FORMAT: WatchFormat = { key: 'json', objectJson: (o) => JSON.stringify(o) };

/**
 * What a watch sends before its live changes: arrays of references to the store's
 * immutable objects and logged changes, serialised lazily, a chunk at a time, as the
 * client reads (never one big buffer).
 */
export interface WatchBacklog {
  /** The current state, sent as synthetic ADDED events (those the watch selects). Default none. */
  readonly objects?: readonly KubeObject[];
  /** Logged changes to replay, oldest first, translated through the selectors. Default none. */
  readonly changes?: readonly StoredChange[];
  /**
   * When set, the backlog ends with a BOOKMARK at this version annotated
   * `k8s.io/initial-events-end` (`sendInitialEvents=true`): the version the
   * `objects` were taken at. Default none.
   */
  readonly initialEventsEndRv?: number;
}

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
  /**
   * A live watcher that lets this many bytes pile up unread is disconnected (the
   * API server closes a watcher that cannot keep up). Default 64 MiB.
   */
  maxBufferedBytes?: number;
  /**
   * While a backlog is being written, live events queue behind it (as their
   * serialised frames, shared with the other watchers); a watch whose queue grows
   * past this many bytes is disconnected. Default 64 MiB.
   */
  maxQueuedBytes?: number;
  /** Backlog events are serialised and written in chunks of about this many bytes. Default 64 KiB. */
  backlogChunkBytes?: number;
  /** Called once when the stream has ended for any reason. */
  onClose(stream: WatchStream): void;
}

/**
 * One open watch: a chunked HTTP response of newline-delimited JSON events.
 *
 * Contract:
 * - Events are written in resourceVersion order; an object that stops matching the
 *   watch's selectors arrives as DELETED and one that starts matching as ADDED (what
 *   the API server's watch cache does).
 * - A backlog ({@link WatchStream.replay}: initial state, WatchList, replay from an
 *   old version) is written with backpressure: a chunk, then wait for `'drain'`
 *   whenever `res.write()` says the buffer is full, so it completes however large
 *   it is and however slowly the client reads. Live events (and bookmarks) that
 *   arrive meanwhile queue in order behind it, bounded by `maxQueuedBytes`.
 * - Live fan-out writes at once and disconnects a watcher more than
 *   `maxBufferedBytes` behind.
 * - A stalled stream writes nothing at all (not even bookmarks, and it abandons its
 *   backlog) until it is ended.
 * - Listens on `res` 'close' (not the request's, which fires once the request body
 *   has been read).
 */
export class WatchStream {
  /** While true, nothing is written (a simulated silent stall). */
  stalled = false;
  private closed = false;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private readonly maxBuffered: number;
  private readonly maxQueued: number;
  private readonly chunkBytes: number;
  /** Live frames waiting behind the backlog; undefined when no backlog is in progress. */
  private queue: Buffer[] | undefined;
  private queuedBytes = 0;
  /** Resolves the backlog writer's wait for 'drain' (also on close). */
  private wake: (() => void) | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: WatchStreamOptions,
  ) {
    this.maxBuffered = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.maxQueued = options.maxQueuedBytes ?? 64 * 1024 * 1024;
    this.chunkBytes = options.backlogChunkBytes ?? 64 * 1024;
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

  /** True while a backlog (or the live events queued behind it) is still being written. */
  get replaying(): boolean {
    return this.queue !== undefined;
  }

  /**
   * Starts writing `backlog` in the background, with backpressure; every event
   * delivered from now on queues behind it. Call it in the same synchronous step as
   * taking the backlog from the store and subscribing the stream, so that no change
   * falls between them. The returned promise (for tests) resolves once the backlog
   * and the queue behind it are written, or the stream ended; it never rejects (a
   * failure destroys the stream).
   */
  replay(backlog: WatchBacklog): Promise<void> {
    if (this.queue !== undefined) throw new Error('a watch stream replays one backlog only');
    if (this.closed) return Promise.resolve();
    this.queue = [];
    return this.writeBacklog(backlog).catch(() => this.destroy());
  }

  /** Delivers one stored change (live fan-out), translated through the selectors; the frame bytes are shared per format. */
  deliver(event: StoredChange): void {
    if (this.stalled || this.closed || event.kind !== this.options.kind) return;
    const type = this.translate(event);
    if (type === undefined) return;
    const cacheKey = `${type}|${this.options.format.key}`;
    let bytes = event.encoded?.get(cacheKey);
    if (bytes === undefined) {
      bytes = Buffer.from(frame(type, this.options.format.objectJson(event.object)), 'utf8');
      (event.encoded ??= new Map()).set(cacheKey, bytes);
    }
    this.write(bytes);
  }

  /**
   * Sends a BOOKMARK at the current version (optionally the initial-events-end one).
   * Behind a backlog it queues like a live event, so it never claims a version whose
   * events the client has not been sent yet.
   */
  sendBookmark(initialEventsEnd = false): void {
    if (this.stalled || this.closed) return;
    this.write(Buffer.from(this.bookmarkFrame(this.options.currentRv(), initialEventsEnd), 'utf8'));
  }

  /** Sends one ERROR event carrying `status` and ends the stream (what pending backlog or queue there is, is dropped). */
  sendErrorAndEnd(status: JsonObject): void {
    if (this.closed) return;
    this.res.write(frame('ERROR', JSON.stringify(status)));
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

  private translate(event: StoredChange): ChangeType | undefined {
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

  private bookmarkFrame(resourceVersion: number, initialEventsEnd: boolean): string {
    const metadata: JsonObject = { resourceVersion: String(resourceVersion) };
    if (initialEventsEnd) metadata['annotations'] = { 'k8s.io/initial-events-end': 'true' };
    const object = { kind: this.options.kind, apiVersion: this.options.apiVersion, metadata };
    return frame('BOOKMARK', JSON.stringify(object));
  }

  /** A live frame: queued behind a backlog, else written at once (with the slow-reader cut). */
  private write(bytes: Buffer): void {
    if (this.queue !== undefined) {
      this.queuedBytes += bytes.length;
      if (this.queuedBytes > this.maxQueued) {
        // The backlog is not moving while live changes keep coming: the client cannot keep up.
        this.destroy();
        return;
      }
      this.queue.push(bytes);
      return;
    }
    if (this.res.writableLength > this.maxBuffered) {
      // A consumer this far behind would get stale data forever; the API server drops it too.
      this.destroy();
      return;
    }
    this.res.write(bytes);
  }

  /** Whether the backlog writer may go on. */
  private get writable(): boolean {
    return !this.closed && !this.stalled;
  }

  private async writeBacklog(backlog: WatchBacklog): Promise<void> {
    const { matches, format } = this.options;
    let text = '';
    // Writes what was gathered; waits while the response's buffer is full.
    const flush = async (): Promise<boolean> => {
      if (text !== '' && this.writable) {
        const ok = this.res.write(text, 'utf8');
        text = '';
        if (!ok) await this.drained();
      }
      return this.writable;
    };
    try {
      for (const object of backlog.objects ?? []) {
        if (!matches(object)) continue;
        text += frame('ADDED', format.objectJson(object));
        if (text.length >= this.chunkBytes && !(await flush())) return;
      }
      for (const change of backlog.changes ?? []) {
        if (change.kind !== this.options.kind) continue;
        const type = this.translate(change);
        if (type === undefined) continue;
        text += frame(type, format.objectJson(change.object));
        if (text.length >= this.chunkBytes && !(await flush())) return;
      }
      if (backlog.initialEventsEndRv !== undefined)
        text += this.bookmarkFrame(backlog.initialEventsEndRv, true);
      if (!(await flush())) return;
      // The live frames that queued meanwhile, in order; more may queue while we wait.
      while (this.queue !== undefined && this.queue.length > 0) {
        const frames = this.queue;
        this.queue = [];
        for (const bytes of frames) {
          this.queuedBytes -= bytes.length;
          if (!this.writable) return;
          if (!this.res.write(bytes)) await this.drained();
        }
      }
    } finally {
      // Live from here on (synchronously after the queue was found empty: nothing can slip in between).
      this.queue = undefined;
      this.queuedBytes = 0;
    }
  }

  /** Resolves on the response's next 'drain', or at once when the stream has ended. */
  private drained(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.wake = undefined;
        resolve();
      };
      this.res.once('drain', done);
      this.wake = done;
    });
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.wake?.();
    this.options.onClose(this);
  }
}

function frame(type: WatchEventType, objectJson: string): string {
  return `{"type":"${type}","object":${objectJson}}\n`;
}
