import { abortableSleep, ExponentialBackoff, type BackoffPolicy } from './backoff.js';
import { ApiError } from './errors/api-error.js';
import { ApiUnreachableError } from './errors/api-unreachable-error.js';
import { ResourceExpiredError } from './errors/resource-expired-error.js';
import { WatchStalledError } from './errors/watch-stalled-error.js';
import type { ListerWatcher, ObjectEvent, WatchEvent } from './lister-watcher.js';
import type { ListReason, ReflectorObserver, WatchEndReason } from './reflector-observer.js';
import { classifyWatchFailure, type WatchAttempt } from './watch-failure.js';

/**
 * Where a {@link Reflector} puts what it reads. Calls never overlap: each one is
 * awaited before the next event is read, so a store sees the resource's changes one
 * at a time, in server order. A store should not throw: a rejection makes the
 * reflector back off and re-read from the last resourceVersion it completed, so the
 * same event may be delivered again (apply must be idempotent, which "set to this
 * state" naturally is).
 */
export interface ReflectorStore<T> {
  /** The complete current state after a (re)list; whatever is not in `items` is gone. */
  replace(items: T[], resourceVersion: string, reason: ListReason): Promise<void>;
  /** One change, after the previous one was applied. */
  apply(event: ObjectEvent<T>): Promise<void>;
}

/** Options of {@link Reflector}. */
export interface ReflectorOptions {
  /** List page size (`limit`). Default 500 (what kubectl and client-go use). */
  pageSize?: number;
  /**
   * Server-side timeout of each watch (`timeoutSeconds`), drawn per watch.
   * Default: random in [300, 600) s, like client-go, so watches of many clients do not end together.
   */
  watchTimeoutSeconds?: () => number;
  /**
   * Abort a watch that has been silent (no event, no bookmark) for this long and
   * start another from the last resourceVersion. 0 disables it. Default 120,000 ms
   * (API servers send a bookmark about once a minute to watchers that allow them).
   */
  watchdogMs?: number;
  /** Delays between failed attempts. Default {@link ExponentialBackoff} (200 ms .. 30 s, jittered). */
  backoff?: BackoffPolicy;
  /** Waits (injectable for tests). Default {@link abortableSleep}. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Monotonic-enough milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Metrics and logs. Default none. */
  observer?: ReflectorObserver;
  /**
   * A watch that ends cleanly sooner than this after it started, without a single
   * event, is treated like a failure (backed off) so a server that closes watches at
   * once cannot make the reflector spin. Default 1,000 ms.
   */
  minWatchDurationMs?: number;
  /**
   * How to get the complete state: `list` (paged LIST, then WATCH from its
   * resourceVersion) or `watch-list` (one WATCH with `sendInitialEvents=true`: the
   * state streams in as ADDED events ended by a bookmark, no page is ever held whole;
   * Kubernetes 1.32+ serves it by default). A server that rejects it (400/403/405/422)
   * makes the reflector fall back to `list` for good. Default `list`.
   */
  initialSync?: 'list' | 'watch-list';
  /**
   * Relist (reason `stuck`) after this many resumes in a row that the server refused
   * (see `WatchFailureKind` `refused`: an error status other than 410/429/5xx, or a
   * watch it ended sooner than `minWatchDurationMs` without one event, e.g. while
   * replaying a backlog larger than it will buffer for us): resuming may never
   * succeed, while a paged list can. Refused connections, timeouts and 429s never
   * count; 5xx count only after `maxInternalErrorRetryMs`. Default 3.
   */
  relistAfterFailedResumes?: number;
  /**
   * How long resumes that fail with 5xx are retried from the last resourceVersion
   * before each further one counts toward `relistAfterFailedResumes` (client-go's
   * `MaxInternalErrorRetryDuration`). Default 30,000 ms.
   */
  maxInternalErrorRetryMs?: number;
}

/** Statuses with which a server refuses a WatchList request it does not support. */
const WATCH_LIST_REJECTED = new Set([400, 403, 405, 422]);

/** What the reflector is doing right now. */
export type ReflectorPhase = 'idle' | 'listing' | 'watching' | 'backing-off' | 'stopped';

/**
 * Keeps a {@link ReflectorStore} equal to one resource of the API server, after
 * client-go's `tools/cache.Reflector`:
 *
 * 1. lists the resource page by page (`limit` / `continue`) and hands the store the
 *    complete list (`replace`); {@link Reflector.synced} becomes true once the first
 *    list was applied, never guessed from data;
 * 2. watches from the list's resourceVersion with bookmarks and a server timeout;
 *    each event is awaited in the store before the next is read (strict order);
 * 3. a watch that ends (timeout, server close) resumes from the last resourceVersion;
 *    410 Expired (HTTP or an ERROR event) relists at once; 429 waits `Retry-After`;
 *    other failures back off with jitter and retry (a failed list lists again, a
 *    failed watch resumes from the last resourceVersion). A refused connection, a
 *    timeout or a 429 never leads to a list, 5xx only after `maxInternalErrorRetryMs`,
 *    and only resumes the server keeps refusing relist (`relistAfterFailedResumes`,
 *    see `classifyWatchFailure`);
 * 4. a watchdog aborts a watch that stays silent too long and starts another.
 *
 * `start()` runs the loop in the background until `stop()`; nothing escapes it:
 * errors go to the observer and are retried.
 */
export class Reflector<T> {
  private readonly pageSize: number;
  private readonly watchTimeoutSeconds: () => number;
  private readonly watchdogMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly now: () => number;
  private readonly observer: ReflectorObserver;
  private readonly minWatchDurationMs: number;
  private watchList: boolean;
  private readonly relistAfterFailedResumes: number;
  private readonly maxInternalErrorRetryMs: number;
  private failedResumes = 0;
  private failedWatchLists = 0;
  /** When the current run of 5xx answers to resumes began (undefined: not in one). */
  private internalErrorsSince: number | undefined;
  private lastAttempt: WatchAttempt = { established: false, events: 0, durationMs: 0 };
  private needList = true;
  private listReason: ListReason = 'initial';
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  private syncedOnce = false;
  private readonly syncWaiters = new Set<() => void>();
  private healthy: boolean | undefined;
  private phaseValue: ReflectorPhase = 'idle';
  private lastRv: string | undefined;
  private lastEventTime: number | undefined;
  private lastErrorValue: Error | undefined;

  constructor(
    private readonly lw: ListerWatcher<T>,
    private readonly store: ReflectorStore<T>,
    options: ReflectorOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 500;
    this.watchTimeoutSeconds = options.watchTimeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));
    this.watchdogMs = options.watchdogMs ?? 120_000;
    this.backoff = options.backoff ?? new ExponentialBackoff();
    this.sleep = options.sleep ?? abortableSleep;
    this.now = options.now ?? Date.now;
    this.observer = options.observer ?? {};
    this.minWatchDurationMs = options.minWatchDurationMs ?? 1_000;
    this.watchList = options.initialSync === 'watch-list';
    this.relistAfterFailedResumes = options.relistAfterFailedResumes ?? 3;
    this.maxInternalErrorRetryMs = options.maxInternalErrorRetryMs ?? 30_000;
  }

  /** True while the reflector gets the state with WatchList (false once a server rejected it). */
  get usesWatchList(): boolean {
    return this.watchList;
  }

  /** The resource's short name (from the ListerWatcher). */
  get resource(): string {
    return this.lw.resource;
  }

  /** True once the first complete list has been applied to the store (stays true). */
  get synced(): boolean {
    return this.syncedOnce;
  }

  /** What the loop is doing now. */
  get phase(): ReflectorPhase {
    return this.phaseValue;
  }

  /** The resourceVersion of the last list, event or bookmark completed. */
  get lastSyncResourceVersion(): string | undefined {
    return this.lastRv;
  }

  /** When (per `now`) the last watch event (or bookmark) arrived. */
  get lastEventAt(): number | undefined {
    return this.lastEventTime;
  }

  /** The last failure, cleared when a list or watch request succeeds again. */
  get lastError(): Error | undefined {
    return this.lastErrorValue;
  }

  /** Starts the list/watch loop in the background. Idempotent. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves once the first list has been applied (or at once if it has); rejects if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.syncedOnce) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      // An aborted wait leaves nothing behind (callers may wait and give up many times).
      const onAbort = (): void => {
        this.syncWaiters.delete(waiter);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.add(waiter);
    });
  }

  /**
   * Stops the loop: aborts the request in flight, lets a store call in progress
   * finish, and resolves when the loop has ended. The store gets no call afterwards.
   */
  async stop(): Promise<void> {
    this.controller.abort(new Error('reflector stopped'));
    await this.loop;
    this.phaseValue = 'stopped';
  }

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  private async run(): Promise<void> {
    while (!this.signal.aborted) {
      const initial = this.needList && this.watchList;
      try {
        if (this.needList && !this.watchList) {
          this.lastRv = await this.listAndReplace(this.listReason);
          this.needList = false;
          this.backoff.reset();
        }
        const ended = await this.watchOnce(initial);
        if (ended === 'too-short') {
          // A server that ends resumes at once, without an event, refuses them.
          if (!initial) this.countRefusedResume();
          await this.pause(this.backoff.next());
        }
      } catch (err) {
        if (this.signal.aborted) break;
        const error = err instanceof Error ? err : new Error(String(err));
        if (initial && error instanceof ApiError && WATCH_LIST_REJECTED.has(error.status)) {
          // The server does not serve WatchList (older Kubernetes, feature gate off): list instead.
          this.watchList = false;
          this.notify((o) => o.onError?.(this.resource, error, 0));
          continue;
        }
        if (initial && !(error instanceof ResourceExpiredError)) {
          // A WatchList that breaks twice in a row before its initial events end (a
          // server that drops us while streaming a state bigger than it will buffer)
          // is given up for paged lists, which always make progress.
          this.failedWatchLists += 1;
          if (this.failedWatchLists >= 2) this.watchList = false;
        }
        if (error instanceof ResourceExpiredError) {
          this.notify((o) => o.onExpired?.(this.resource));
          // A watch's 410 relists at once; a list that itself expired (a stale
          // `continue` token) waits first so it cannot spin.
          const fromList = this.needList;
          this.needList = true;
          this.listReason = 'expired';
          if (fromList) await this.pause(this.backoff.next());
          continue;
        }
        if (!initial && !this.needList) this.onResumeFailed(error);
        const retryAfter = error instanceof ApiError ? error.retryAfterSeconds : undefined;
        const delay =
          retryAfter !== undefined ? Math.max(retryAfter * 1000, this.backoff.next()) : this.backoff.next();
        this.lastErrorValue = error;
        this.notify((o) => o.onError?.(this.resource, error, delay));
        await this.pause(delay);
      }
    }
    this.phaseValue = 'stopped';
  }

  /**
   * Decides whether a failed resume brings a relist closer (see `WatchFailureKind`):
   * only refusals do, and 5xx once they have lasted `maxInternalErrorRetryMs`.
   */
  private onResumeFailed(error: Error): void {
    const kind = classifyWatchFailure(error, this.lastAttempt, this.minWatchDurationMs);
    if (kind !== 'internal') this.internalErrorsSince = undefined;
    if (kind === 'internal') {
      this.internalErrorsSince ??= this.now();
      if (this.now() - this.internalErrorsSince >= this.maxInternalErrorRetryMs) this.countRefusedResume();
    } else if (kind === 'refused') {
      this.countRefusedResume();
    }
  }

  private countRefusedResume(): void {
    this.failedResumes += 1;
    if (this.failedResumes < this.relistAfterFailedResumes) return;
    this.failedResumes = 0;
    this.needList = true;
    this.listReason = 'stuck';
  }

  private async pause(ms: number): Promise<void> {
    this.phaseValue = 'backing-off';
    await this.sleep(ms, this.signal);
  }

  private async listAndReplace(reason: ListReason): Promise<string> {
    this.phaseValue = 'listing';
    const started = this.now();
    const items: T[] = [];
    let cont: string | undefined;
    let rv: string;
    let pages = 0;
    do {
      const options =
        cont === undefined ? { limit: this.pageSize } : { limit: this.pageSize, continue: cont };
      const page = await this.request(() => this.lw.list(options, this.signal));
      pages += 1;
      for (const item of page.items) items.push(item);
      rv = page.resourceVersion;
      cont = page.continue;
    } while (cont !== undefined && !this.signal.aborted);
    if (this.signal.aborted) throw this.signal.reason;
    await this.completeList(items, rv, reason, pages, started);
    return rv;
  }

  /** Hands a complete state to the store and marks the reflector synced. */
  private async completeList(
    items: T[],
    rv: string,
    reason: ListReason,
    pages: number,
    started: number,
  ): Promise<void> {
    await this.store.replace(items, rv, reason);
    const wasSynced = this.syncedOnce;
    this.syncedOnce = true;
    this.notify((o) =>
      o.onListed?.(this.resource, {
        reason,
        items: items.length,
        pages,
        durationMs: this.now() - started,
        resourceVersion: rv,
      }),
    );
    if (!wasSynced) {
      const waiters = [...this.syncWaiters];
      this.syncWaiters.clear();
      // After the list's frames have unwound, so a waiter never runs while the
      // whole list is still referenced (it would see it in a heap measurement).
      setImmediate(() => {
        for (const w of waiters) w();
      });
    }
  }

  /** Runs one request and reports reachability on its outcome (a 410 is an answer, so it counts as reachable). */
  private async request<R>(fn: () => Promise<R>): Promise<R> {
    try {
      const result = await fn();
      this.setHealth(true);
      return result;
    } catch (err) {
      if (!this.signal.aborted) {
        if (err instanceof ResourceExpiredError) this.setHealth(true);
        else this.setHealth(false, err instanceof Error ? err : new Error(String(err)));
      }
      throw err;
    }
  }

  private setHealth(healthy: boolean, error?: Error): void {
    if (healthy) this.lastErrorValue = undefined;
    if (this.healthy === healthy && healthy) return;
    this.healthy = healthy;
    this.notify((o) => o.onHealth?.(this.resource, healthy, error));
  }

  /**
   * One watch from `lastRv`. Returns how it ended normally; throws on 410, on an
   * ERROR event and on failures. `lastRv` only advances after the store applied an
   * event, so a watch resumed after a failure never skips one.
   */
  private async watchOnce(initial: boolean): Promise<'closed' | 'watchdog' | 'too-short'> {
    const watchAbort = new AbortController();
    const onStop = (): void => watchAbort.abort(this.signal.reason);
    this.signal.addEventListener('abort', onStop, { once: true });
    const started = this.now();
    let lastActivity = started;
    let applying = false;
    let established = false;
    let events = 0;
    let endReason: WatchEndReason = 'error';
    const watchdog =
      this.watchdogMs > 0
        ? setInterval(
            () => {
              const silent = this.now() - lastActivity;
              if (!applying && silent > this.watchdogMs) watchAbort.abort(new WatchStalledError(silent));
            },
            Math.max(10, Math.min(1_000, Math.floor(this.watchdogMs / 4))),
          )
        : undefined;
    watchdog?.unref();
    try {
      const options = initial
        ? { timeoutSeconds: this.watchTimeoutSeconds(), allowBookmarks: true, sendInitialEvents: true }
        : { resourceVersion: this.lastRv, timeoutSeconds: this.watchTimeoutSeconds(), allowBookmarks: true };
      const stream = await this.request(() => this.lw.watch(options, watchAbort.signal));
      established = true;
      // The server answers again: a run of 5xx (if any) is over.
      this.internalErrorsSince = undefined;
      this.phaseValue = initial ? 'listing' : 'watching';
      lastActivity = this.now();
      this.notify((o) => o.onWatchStarted?.(this.resource, initial ? undefined : this.lastRv));
      // WatchList: the initial state, collected until the bookmark that ends it.
      let collecting: T[] | undefined = initial ? [] : undefined;
      for await (const batch of stream) {
        for (const event of batch) {
          lastActivity = this.now();
          this.lastEventTime = lastActivity;
          this.notify((o) => o.onEvent?.(this.resource, event.type));
          events += 1;
          if (collecting && event.type === 'ADDED') {
            // An item of the initial state: collected at once, not through an await per item.
            collecting.push(event.object);
          } else if (collecting) {
            applying = true;
            try {
              collecting = await this.collectInitial(collecting, event, started);
            } finally {
              applying = false;
            }
            if (!collecting) this.phaseValue = 'watching';
          } else {
            await this.handle(event, (a) => (applying = a));
          }
          if (watchAbort.signal.aborted) break;
        }
        lastActivity = this.now();
        this.backoff.reset();
        if (watchAbort.signal.aborted) break;
      }
      if (watchAbort.signal.aborted) throw watchAbort.signal.reason;
      if (collecting)
        throw new ApiUnreachableError(`watch-list of ${this.resource} ended before its initial events did`);
      endReason = 'closed';
      return events === 0 && this.now() - started < this.minWatchDurationMs ? 'too-short' : 'closed';
    } catch (err) {
      const reason: unknown = watchAbort.signal.reason;
      if (!this.signal.aborted && reason instanceof WatchStalledError) {
        endReason = 'watchdog';
        this.notify((o) => o.onError?.(this.resource, reason, 0));
        return 'watchdog';
      }
      if (this.signal.aborted) endReason = 'stopped';
      else if (err instanceof ResourceExpiredError) endReason = 'expired';
      throw err;
    } finally {
      if (watchdog) clearInterval(watchdog);
      this.signal.removeEventListener('abort', onStop);
      watchAbort.abort(new Error('watch finished'));
      const durationMs = this.now() - started;
      this.lastAttempt = { established, events, durationMs };
      if (events > 0) this.failedResumes = 0;
      this.notify((o) => o.onWatchEnded?.(this.resource, { reason: endReason, events, durationMs }));
    }
  }

  /**
   * One event of a WatchList's initial phase other than its ADDED items (which the
   * watch loop collects): the bookmark marked `initialEventsEnd` hands them to the
   * store (returns undefined: the initial phase is over). MODIFIED or DELETED there
   * is a protocol violation.
   */
  private async collectInitial(items: T[], event: WatchEvent<T>, started: number): Promise<T[] | undefined> {
    switch (event.type) {
      case 'BOOKMARK':
        if (!event.initialEventsEnd) return items;
        await this.completeList(items, event.resourceVersion, this.listReason, 0, started);
        this.lastRv = event.resourceVersion;
        this.needList = false;
        // Only WatchLists that break in a row give WatchList up.
        this.failedWatchLists = 0;
        return undefined;
      case 'ERROR':
        await this.handle(event, () => undefined);
        return items;
      default:
        throw new ApiUnreachableError(
          `watch-list of ${this.resource}: ${event.type} before the initial events ended`,
        );
    }
  }

  private async handle(event: WatchEvent<T>, setApplying: (a: boolean) => void): Promise<void> {
    switch (event.type) {
      case 'ERROR':
        if (event.code === 410) throw new ResourceExpiredError(`watch ${this.resource}: ${event.message}`);
        throw new ApiError(event.code, `watch ${this.resource}: ${event.message}`, event.reason);
      case 'BOOKMARK':
        if (event.resourceVersion) this.lastRv = event.resourceVersion;
        return;
      default:
        setApplying(true);
        try {
          await this.store.apply(event);
        } finally {
          setApplying(false);
        }
        if (event.resourceVersion) this.lastRv = event.resourceVersion;
    }
  }

  private notify(call: (observer: ReflectorObserver) => void): void {
    try {
      call(this.observer);
    } catch {
      // An observer must not break the loop.
    }
  }
}
