import { ApiUnreachableError } from '../errors/api-unreachable-error.js';
import type { ListerWatcher, ListOptions, ListPage, WatchEvent, WatchOptions } from '../lister-watcher.js';
import type { ObjectScan } from '../pod-scan.js';
import { parseBody, type KubeHttpClient } from './kube-http-client.js';
import { scanListBody, scanWatchLine } from './kube-json-scan.js';

/** The annotation on the bookmark that ends a WatchList's initial events. */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

/** Options of {@link HttpListerWatcher}. */
export interface HttpListerWatcherOptions<T> {
  /** Short name for logs and metrics, e.g. `nodes`. */
  resource: string;
  /** Collection path, e.g. `/api/v1/nodes` or `/api/v1/pods`. */
  path: string;
  /**
   * Turns one decoded object (a list item or a watch event's object) into what the
   * store keeps. Called once per object, right after its JSON is parsed, so the full
   * object can be collected at once. Must not keep a reference to `raw`.
   */
  project: (raw: unknown) => T;
  /**
   * The same projection straight from an object's JSON text (e.g. `podScan()`):
   * list pages and ADDED/MODIFIED/DELETED lines are scanned with it, never built;
   * whatever it leaves (`ScanFallback`) is parsed and `project`ed. It must give
   * exactly what `project(JSON.parse(text))` gives. Default none: always parse.
   */
  scan?: ObjectScan<T>;
  /** Extra query parameters (a `fieldSelector`, a `labelSelector`). Default none. */
  query?: Readonly<Record<string, string>>;
}

interface RawMeta {
  metadata?: { resourceVersion?: string; continue?: string; annotations?: Record<string, string> | null };
}

/**
 * A {@link ListerWatcher} over the Kubernetes REST API (JSON), through a
 * {@link KubeHttpClient}. Lists page by page (`limit` / `continue`), watches with
 * `allowWatchBookmarks` and `timeoutSeconds` (and `sendInitialEvents` when asked),
 * projects every object immediately and never keeps raw objects.
 */
export class HttpListerWatcher<T> implements ListerWatcher<T> {
  readonly resource: string;

  constructor(
    private readonly client: KubeHttpClient,
    private readonly options: HttpListerWatcherOptions<T>,
  ) {
    this.resource = options.resource;
  }

  async list(options: ListOptions, signal: AbortSignal): Promise<ListPage<T>> {
    const params = new URLSearchParams(this.options.query);
    params.set('limit', String(options.limit));
    if (options.continue) params.set('continue', options.continue);
    const pathAndQuery = `${this.options.path}?${params}`;
    const text = await this.client.getText(pathAndQuery, signal);
    const scan = this.options.scan;
    if (scan) {
      try {
        return scanListBody(text, scan);
      } catch {
        // Left to JSON.parse and project, which decide (and word any error) as always.
      }
    }
    const body = parseBody(text, pathAndQuery) as RawMeta & { items?: unknown[] | null };
    if (!body || typeof body !== 'object' || !Array.isArray(body.items ?? [])) {
      throw new ApiUnreachableError(`list ${this.options.path}: the answer is not a list`);
    }
    const raw = body.items ?? [];
    const items = new Array<T>(raw.length);
    for (let i = 0; i < raw.length; i++) {
      items[i] = this.options.project(raw[i]);
      raw[i] = undefined; // let the full object go as soon as it is projected
    }
    const page: ListPage<T> = { items, resourceVersion: body.metadata?.resourceVersion ?? '' };
    if (body.metadata?.continue) page.continue = body.metadata.continue;
    return page;
  }

  async watch(options: WatchOptions, signal: AbortSignal): Promise<AsyncIterable<readonly WatchEvent<T>[]>> {
    const params = new URLSearchParams(this.options.query);
    params.set('watch', 'true');
    if (options.allowBookmarks) params.set('allowWatchBookmarks', 'true');
    params.set('timeoutSeconds', String(options.timeoutSeconds));
    if (options.sendInitialEvents) {
      params.set('sendInitialEvents', 'true');
      params.set('resourceVersionMatch', 'NotOlderThan');
      params.set('resourceVersion', options.resourceVersion ?? '');
    } else if (options.resourceVersion !== undefined) {
      params.set('resourceVersion', options.resourceVersion);
    }
    const lines = await this.client.streamLines(`${this.options.path}?${params}`, signal);
    return this.events(lines);
  }

  private async *events(batches: AsyncIterable<string[]>): AsyncGenerator<WatchEvent<T>[]> {
    for await (const lines of batches) {
      const events = new Array<WatchEvent<T>>(lines.length);
      for (let i = 0; i < lines.length; i++) events[i] = this.decodeEvent(lines[i] as string);
      yield events;
    }
  }

  /** Decodes one watch line into a projected event. Exposed for tests. */
  decodeEvent(line: string): WatchEvent<T> {
    const scan = this.options.scan;
    if (scan) {
      try {
        return scanWatchLine(line, scan);
      } catch {
        // A bookmark, an error, an odd line: JSON.parse and project decide.
      }
    }
    let parsed: { type?: string; object?: unknown };
    try {
      parsed = JSON.parse(line) as { type?: string; object?: unknown };
    } catch (err) {
      throw new ApiUnreachableError(`watch ${this.options.path}: a line is not JSON`, { cause: err });
    }
    const type = parsed.type;
    const object = parsed.object as (RawMeta & Record<string, unknown>) | undefined;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED':
        return {
          type,
          object: this.options.project(object),
          resourceVersion: object?.metadata?.resourceVersion ?? '',
        };
      case 'BOOKMARK':
        return {
          type,
          resourceVersion: object?.metadata?.resourceVersion ?? '',
          initialEventsEnd: object?.metadata?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] === 'true',
        };
      case 'ERROR': {
        const status = (object ?? {}) as { code?: number; reason?: string; message?: string };
        const event: WatchEvent<T> = {
          type,
          code: typeof status.code === 'number' ? status.code : 500,
          message: status.message ?? 'watch error',
        };
        if (status.reason) event.reason = status.reason;
        return event;
      }
      default:
        throw new ApiUnreachableError(`watch ${this.options.path}: unknown event type ${String(type)}`);
    }
  }
}
