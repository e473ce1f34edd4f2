import { ApiError } from '../src/errors/api-error.js';
import { ApiUnreachableError } from '../src/errors/api-unreachable-error.js';
import { ResourceExpiredError } from '../src/errors/resource-expired-error.js';
import type {
  ListerWatcher,
  ListOptions,
  ListPage,
  WatchEvent,
  WatchOptions,
} from '../src/lister-watcher.js';

interface LogEntry<T> {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
}

type Queued<T> = WatchEvent<T> | { type: 'END' } | { type: 'BREAK' };

interface Subscriber<T> {
  push(event: Queued<T>): void;
}

/**
 * An in-memory {@link ListerWatcher} for unit specs, after client-go's
 * `fake_controller_source.go`: a resourceVersion counter, a change log replayed to
 * watches that start from an old version, "410 Expired" once the log is compacted,
 * and switches that drop, break or stall watches and fail requests on purpose.
 */
export class FakeSource<T> implements ListerWatcher<T> {
  private rv = 0;
  private compactedRv = 0;
  private readonly objects = new Map<string, T>();
  private readonly log: LogEntry<T>[] = [];
  private readonly subscribers = new Set<Subscriber<T>>();
  private readonly pages = new Map<string, { items: T[]; rv: number }>();
  private failures: Error[] = [];
  private watchesToCut = 0;
  /** Every request made: `list` / `watch@<rv>`. */
  readonly requests: string[] = [];
  /** While true, open watches deliver nothing (events are still logged). */
  stalled = false;
  /** While true, a WatchList request (`sendInitialEvents`) is refused with 422, as older servers do. */
  rejectWatchList = false;

  constructor(
    readonly resource: string,
    private readonly keyOf: (object: T) => string,
  ) {}

  get resourceVersion(): string {
    return String(this.rv);
  }

  get openWatches(): number {
    return this.subscribers.size;
  }

  /** Adds or replaces an object (ADDED or MODIFIED). */
  upsert(object: T): void {
    const key = this.keyOf(object);
    const type = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    this.objects.set(key, object);
    this.record(type, object);
  }

  delete(key: string): void {
    const object = this.objects.get(key);
    if (object === undefined) return;
    this.objects.delete(key);
    this.record('DELETED', object);
  }

  /** Changes state without telling watchers (as if their events were lost): only a relist finds it. */
  silently(fn: () => void): void {
    const subs = [...this.subscribers];
    this.subscribers.clear();
    try {
      fn();
    } finally {
      for (const s of subs) this.subscribers.add(s);
    }
  }

  /** Forgets the log: watches from any older resourceVersion get 410. */
  compact(): void {
    this.compactedRv = this.rv;
    this.log.length = 0;
  }

  /** Ends every open watch cleanly. */
  dropWatches(): void {
    for (const s of this.subscribers) s.push({ type: 'END' });
  }

  /** Breaks every open watch (connection reset). */
  breakWatches(): void {
    for (const s of this.subscribers) s.push({ type: 'BREAK' });
  }

  /** Sends a bookmark at the current resourceVersion to every open watch. */
  bookmark(): void {
    for (const s of this.subscribers) {
      s.push({ type: 'BOOKMARK', resourceVersion: String(this.rv), initialEventsEnd: false });
    }
  }

  /** Sends an ERROR event to every open watch. */
  sendError(code: number, message: string): void {
    for (const s of this.subscribers) s.push({ type: 'ERROR', code, message });
  }

  /** The next requests (list or watch) fail with these errors, in order. */
  failNext(...errors: Error[]): void {
    this.failures.push(...errors);
  }

  /**
   * The next `count` watch requests are answered, then their connection breaks before
   * a single event (a server that drops a resume while replaying its backlog).
   */
  cutNextWatches(count: number): void {
    this.watchesToCut += count;
  }

  list(options: ListOptions, signal: AbortSignal): Promise<ListPage<T>> {
    this.requests.push('list');
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const failure = this.failures.shift();
    if (failure) return Promise.reject(failure);
    let snapshot: { items: T[]; rv: number };
    let offset = 0;
    if (options.continue) {
      const [id, at] = options.continue.split(':');
      const found = this.pages.get(id ?? '');
      if (!found) return Promise.reject(new ResourceExpiredError('continue token expired'));
      snapshot = found;
      offset = Number(at);
    } else {
      snapshot = { items: [...this.objects.values()], rv: this.rv };
    }
    const items = snapshot.items.slice(offset, offset + options.limit);
    const page: ListPage<T> = { items, resourceVersion: String(snapshot.rv) };
    if (offset + options.limit < snapshot.items.length) {
      const id = `p${this.pages.size + 1}`;
      this.pages.set(id, snapshot);
      page.continue = `${id}:${offset + options.limit}`;
    }
    return Promise.resolve(page);
  }

  /** Makes every outstanding continue token expire. */
  expireContinueTokens(): void {
    this.pages.clear();
  }

  async watch(options: WatchOptions, signal: AbortSignal): Promise<AsyncIterable<readonly WatchEvent<T>[]>> {
    this.requests.push(`watch@${options.resourceVersion ?? ''}`);
    if (signal.aborted) throw signal.reason;
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (options.sendInitialEvents && this.rejectWatchList) {
      throw new ApiError(
        422,
        'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
        'Invalid',
      );
    }
    const from = Number(options.resourceVersion ?? this.rv);
    const queue: Queued<T>[] = [];
    const waiter: { wake?: () => void } = {};
    if (this.watchesToCut > 0) {
      this.watchesToCut -= 1;
      return this.events([{ type: 'BREAK' }], waiter, { push: () => undefined }, signal);
    }
    const sub: Subscriber<T> = {
      push: (e) => {
        queue.push(e);
        waiter.wake?.();
      },
    };
    if (options.sendInitialEvents) {
      for (const object of this.objects.values()) {
        queue.push({ type: 'ADDED', object, resourceVersion: String(this.rv) });
      }
      queue.push({ type: 'BOOKMARK', resourceVersion: String(this.rv), initialEventsEnd: true });
      this.subscribers.add(sub);
    } else if (from < this.compactedRv) {
      queue.push({
        type: 'ERROR',
        code: 410,
        reason: 'Expired',
        message: `too old resource version: ${from}`,
      });
      queue.push({ type: 'END' });
    } else {
      for (const entry of this.log) {
        if (entry.rv > from) {
          queue.push({ type: entry.type, object: entry.object, resourceVersion: String(entry.rv) });
        }
      }
      this.subscribers.add(sub);
    }
    return this.events(queue, waiter, sub, signal);
  }

  private async *events(
    queue: Queued<T>[],
    waiter: { wake?: () => void },
    sub: Subscriber<T>,
    signal: AbortSignal,
  ): AsyncGenerator<WatchEvent<T>[]> {
    try {
      for (;;) {
        if (signal.aborted) throw signal.reason;
        const next = this.stalled ? undefined : queue.shift();
        if (!next) {
          await new Promise<void>((resolve) => {
            waiter.wake = resolve;
            signal.addEventListener('abort', () => resolve(), { once: true });
            if (this.stalled) setTimeout(resolve, 5);
          });
          waiter.wake = undefined;
          continue;
        }
        if (next.type === 'END') return;
        if (next.type === 'BREAK') throw new ApiUnreachableError('connection reset');
        yield [next];
      }
    } finally {
      this.subscribers.delete(sub);
    }
  }

  private record(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void {
    this.rv += 1;
    this.log.push({ rv: this.rv, type, object });
    for (const s of this.subscribers) s.push({ type, object, resourceVersion: String(this.rv) });
  }
}
