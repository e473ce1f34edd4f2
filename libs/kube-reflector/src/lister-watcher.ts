/**
 * The narrow seams a {@link Reflector} reads a resource through, after client-go's
 * `tools/cache` `Lister` / `Watcher`. Implementations project every object the moment
 * it is decoded (a Node into a `NodeSnapshot`, a Pod into a `PodRecord`), so no full
 * Kubernetes object outlives the parse of its page or watch line.
 */

/** Options of one list request (one page). */
export interface ListOptions {
  /** Page size (`limit`). */
  limit: number;
  /** The previous page's `continue` token; unset for the first page. */
  continue?: string;
}

/** One page of a list. */
export interface ListPage<T> {
  items: T[];
  /** The list's resourceVersion: where a watch that follows the list starts. */
  resourceVersion: string;
  /** Token for the next page; undefined on the last one. */
  continue?: string;
}

/** Options of one watch request. */
export interface WatchOptions {
  /** Start after this resourceVersion; `undefined` with `sendInitialEvents` asks for the current state first. */
  resourceVersion?: string;
  /** Server-side timeout (`timeoutSeconds`): the server ends the stream cleanly after it. */
  timeoutSeconds: number;
  /** Ask for `BOOKMARK` events (`allowWatchBookmarks=true`). */
  allowBookmarks: boolean;
  /**
   * WatchList (`sendInitialEvents=true&resourceVersionMatch=NotOlderThan`): the
   * current state arrives as ADDED events ended by a bookmark with
   * `initialEventsEnd: true`, replacing the initial list.
   */
  sendInitialEvents?: boolean;
}

/** A change to one object, already projected. */
export interface ObjectEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
  /** The object's resourceVersion after the change (where a resumed watch starts). */
  resourceVersion: string;
}

/** A bookmark: the server's progress marker, carrying only a resourceVersion. */
export interface BookmarkEvent {
  type: 'BOOKMARK';
  resourceVersion: string;
  /** Set on the bookmark that ends a WatchList's initial events (`k8s.io/initial-events-end`). */
  initialEventsEnd: boolean;
}

/** A watch `ERROR` event: a `Status` in the stream (410 Expired is the usual one). */
export interface ErrorEvent {
  type: 'ERROR';
  code: number;
  reason?: string;
  message: string;
}

/** Everything a watch stream can carry. */
export type WatchEvent<T> = ObjectEvent<T> | BookmarkEvent | ErrorEvent;

/** Lists one resource page by page. */
export interface Lister<T> {
  /** One page. Rejects with `ApiError` / `ResourceExpiredError` / `ApiUnreachableError`. */
  list(options: ListOptions, signal: AbortSignal): Promise<ListPage<T>>;
}

/** Watches one resource. */
export interface Watcher<T> {
  /**
   * Opens a watch and resolves once the server accepted it (HTTP 200); the events
   * then come from the returned iterable in batches (the events that arrived
   * together; one async step per batch, not per event), in server order, and it ends
   * when the server closes the stream. Aborting `signal` ends it early. Rejects (or
   * the iteration throws) with `ApiError` / `ResourceExpiredError` / `ApiUnreachableError`.
   */
  watch(options: WatchOptions, signal: AbortSignal): Promise<AsyncIterable<readonly WatchEvent<T>[]>>;
}

/** Both halves; what a {@link Reflector} needs. */
export interface ListerWatcher<T> extends Lister<T>, Watcher<T> {
  /** A short name for logs and metrics, e.g. `nodes` or `pods`. */
  readonly resource: string;
}
