import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { FakeSource } from '../test/fake-source.js';
import { ApiError } from './errors/api-error.js';
import { ApiUnreachableError } from './errors/api-unreachable-error.js';
import { ResourceExpiredError } from './errors/resource-expired-error.js';
import { WatchStalledError } from './errors/watch-stalled-error.js';
import type { ObjectEvent } from './lister-watcher.js';
import type { ListReason, ReflectorObserver } from './reflector-observer.js';
import { Reflector, type ReflectorOptions, type ReflectorStore } from './reflector.js';

interface Item {
  name: string;
  v: number;
}

class TestStore implements ReflectorStore<Item> {
  readonly items = new Map<string, number>();
  readonly calls: string[] = [];
  active = 0;
  maxActive = 0;
  delayMs = 0;
  failNextApply = 0;

  async replace(items: Item[], rv: string, reason: ListReason): Promise<void> {
    this.calls.push(`replace(${items.length})@${rv}:${reason}`);
    this.items.clear();
    for (const i of items) this.items.set(i.name, i.v);
  }

  async apply(event: ObjectEvent<Item>): Promise<void> {
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.failNextApply > 0) {
        this.failNextApply -= 1;
        throw new Error('store write failed');
      }
      this.calls.push(`${event.type} ${event.object.name}=${event.object.v}@${event.resourceVersion}`);
      if (event.type === 'DELETED') this.items.delete(event.object.name);
      else this.items.set(event.object.name, event.object.v);
    } finally {
      this.active -= 1;
    }
  }
}

interface Recorder extends ReflectorObserver {
  log: string[];
  sleeps: number[];
}

function recorder(): Recorder {
  const log: string[] = [];
  return {
    log,
    sleeps: [],
    onExpired: () => log.push('expired'),
    onListed: (_r, i) => log.push(`listed ${i.reason} ${i.items} items ${i.pages} pages`),
    onWatchEnded: (_r, i) => log.push(`watch ended ${i.reason}`),
    onError: (_r, e) => log.push(`error ${e.name}`),
    onHealth: (_r, healthy) => log.push(healthy ? 'healthy' : 'unhealthy'),
  };
}

const reflectors: Reflector<Item>[] = [];

function setup(options: ReflectorOptions = {}): {
  source: FakeSource<Item>;
  store: TestStore;
  obs: Recorder;
  reflector: Reflector<Item>;
} {
  const source = new FakeSource<Item>('items', (i) => i.name);
  const store = new TestStore();
  const obs = recorder();
  const reflector = new Reflector(source, store, {
    pageSize: 2,
    watchTimeoutSeconds: () => 60,
    minWatchDurationMs: 0,
    sleep: async (ms) => {
      obs.sleeps.push(ms);
      await new Promise((r) => setTimeout(r, 1));
    },
    observer: obs,
    ...options,
  });
  reflectors.push(reflector);
  return { source, store, obs, reflector };
}

afterEach(async () => {
  await Promise.all(reflectors.splice(0).map((r) => r.stop()));
});

const snapshot = (store: TestStore): Record<string, number> => Object.fromEntries(store.items);

describe('Reflector', () => {
  it('lists page by page, then watches from the list resourceVersion and applies events in order', async () => {
    const { source, store, reflector, obs } = setup();
    for (let i = 1; i <= 5; i++) source.upsert({ name: `n${i}`, v: 1 });
    reflector.start();
    await reflector.waitForSync();
    expect(store.calls[0]).toBe('replace(5)@5:initial');
    expect(obs.log).toContain('listed initial 5 items 3 pages');
    await waitFor(() => source.openWatches === 1, { what: 'a watch' });
    expect(source.requests).toEqual(['list', 'list', 'list', 'watch@5']);
    source.upsert({ name: 'n1', v: 2 });
    source.delete('n2');
    source.upsert({ name: 'n6', v: 1 });
    await waitFor(() => store.calls.length === 4, { what: 'three events' });
    expect(store.calls.slice(1)).toEqual(['MODIFIED n1=2@6', 'DELETED n2=1@7', 'ADDED n6=1@8']);
    expect(snapshot(store)).toEqual({ n1: 2, n3: 1, n4: 1, n5: 1, n6: 1 });
    expect(reflector.synced).toBe(true);
    expect(reflector.phase).toBe('watching');
  });

  it('resumes a watch that ended normally from the last resourceVersion, without relisting', async () => {
    const { source, store, reflector } = setup();
    source.upsert({ name: 'a', v: 1 });
    reflector.start();
    await waitFor(() => source.openWatches === 1);
    source.upsert({ name: 'a', v: 2 });
    await waitFor(() => store.items.get('a') === 2);
    source.dropWatches();
    await waitFor(() => source.requests.includes('watch@2'), { what: 'a resumed watch' });
    source.upsert({ name: 'a', v: 3 });
    await waitFor(() => store.items.get('a') === 3);
    expect(source.requests.filter((r) => r === 'list')).toHaveLength(1);
  });

  it('resumes from the last bookmark', async () => {
    const { source, reflector } = setup();
    reflector.start();
    await waitFor(() => source.openWatches === 1);
    source.silently(() => source.upsert({ name: 'x', v: 1 }));
    source.bookmark();
    await waitFor(() => reflector.lastSyncResourceVersion === '1');
    source.dropWatches();
    await waitFor(() => source.requests.includes('watch@1'));
  });

  it.each([
    ['an ERROR event with code 410', (s: FakeSource<Item>) => s.sendError(410, 'too old resource version')],
    ['a compacted log on resume', (s: FakeSource<Item>) => (s.compact(), s.dropWatches())],
  ])(
    'relists after %s and hands the store the full new list (missed deletes vanish)',
    async (_name, trigger) => {
      const { source, store, reflector, obs } = setup();
      source.upsert({ name: 'a', v: 1 });
      source.upsert({ name: 'b', v: 1 });
      reflector.start();
      await waitFor(() => source.openWatches === 1);
      source.silently(() => {
        source.delete('a');
        source.upsert({ name: 'c', v: 1 });
      });
      trigger(source);
      await waitFor(() => store.calls.some((c) => c.includes(':expired')), { what: 'a relist' });
      expect(snapshot(store)).toEqual({ b: 1, c: 1 });
      expect(obs.log).toContain('expired');
      expect(obs.log).toContain('listed expired 2 items 1 pages');
    },
  );

  it('relists when the watch request itself answers 410', async () => {
    const { source, store, reflector } = setup();
    reflector.start();
    await waitFor(() => source.openWatches === 1);
    source.failNext(new ResourceExpiredError('gone'));
    source.dropWatches();
    await waitFor(() => store.calls.some((c) => c.endsWith(':expired')));
    expect(source.requests.filter((r) => r === 'list')).toHaveLength(2);
  });

  it('restarts the whole list when a continue token expires mid-list, backing off first', async () => {
    const { source, store, reflector, obs } = setup({ pageSize: 1 });
    source.upsert({ name: 'a', v: 1 });
    source.upsert({ name: 'b', v: 1 });
    source.failNext(new ResourceExpiredError('continue expired'));
    reflector.start();
    await reflector.waitForSync();
    expect(store.calls[0]).toBe('replace(2)@2:expired');
    expect(obs.sleeps).toHaveLength(1);
  });

  it('honours Retry-After on 429 and backs off with jitter on connection errors; reports health', async () => {
    const { source, reflector, obs } = setup({
      backoff: { next: () => 123, reset: () => undefined },
    });
    source.failNext(
      new ApiError(429, 'too many requests', 'TooManyRequests', 7),
      new ApiUnreachableError('connect ECONNREFUSED'),
    );
    reflector.start();
    await reflector.waitForSync();
    expect(obs.sleeps).toEqual([7_000, 123]);
    expect(obs.log.slice(0, 6)).toEqual([
      'unhealthy',
      'error ApiError',
      'unhealthy',
      'error ApiUnreachableError',
      'healthy',
      'listed initial 0 items 1 pages',
    ]);
    expect(reflector.lastError).toBeUndefined();
  });

  it('backs off after a broken watch and resumes from the last resourceVersion', async () => {
    const { source, store, reflector, obs } = setup();
    reflector.start();
    await waitFor(() => source.openWatches === 1);
    source.upsert({ name: 'a', v: 1 });
    await waitFor(() => store.items.has('a'));
    source.breakWatches();
    await waitFor(() => source.requests.includes('watch@1'));
    expect(obs.log).toContain('error ApiUnreachableError');
    expect(obs.sleeps.length).toBeGreaterThan(0);
    expect(source.requests.filter((r) => r === 'list')).toHaveLength(1);
  });

  it('relists when the server keeps refusing resumes (answered, then cut before an event), not before', async () => {
    const { source, store, reflector } = setup({ minWatchDurationMs: 10_000 });
    source.upsert({ name: 'a', v: 1 });
    reflector.start();
    await waitFor(() => source.openWatches === 1);
    source.upsert({ name: 'a', v: 2 });
    await waitFor(() => store.items.get('a') === 2);
    // Two refused resumes are retried from the same resourceVersion...
    source.cutNextWatches(2);
    source.breakWatches();
    await waitFor(
      () => source.openWatches === 1 && source.requests.filter((r) => r === 'watch@2').length === 3,
    );
    expect(source.requests.filter((r) => r === 'list')).toHaveLength(1);
    source.upsert({ name: 'a', v: 3 });
    await waitFor(() => store.items.get('a') === 3);
    // ...three in a row relist.
    source.cutNextWatches(3);
    source.breakWatches();
    await waitFor(() => store.calls.some((c) => c.endsWith(':stuck')), {
      what: 'a relist after 3 refused resumes',
    });
    expect(source.requests.filter((r) => r === 'list')).toHaveLength(2);
    // Three refused resumes, then the watch that follows the relist (the list is at 3 too).
    expect(source.requests.filter((r) => r === 'watch@3')).toHaveLength(4);
  });

  it('never relists for refused connections, timeouts and 429s, however many in a row', async () => {
    const { source, store, reflector, obs } = setup({ minWatchDurationMs: 10_000 });
    source.upsert({ name: 'a', v: 1 });
    reflector.start();
    await waitFor(() => source.openWatches === 1);
    const failures: Error[] = [];
    for (let i = 0; i < 4; i++) {
      failures.push(
        new ApiUnreachableError('connect ECONNREFUSED 127.0.0.1:6443'),
        new ApiUnreachableError('watch /api/v1/items: timed out'),
        new ApiError(429, 'too many requests', 'TooManyRequests'),
      );
    }
    source.failNext(...failures);
    source.breakWatches();
    await waitFor(
      () => source.openWatches === 1 && source.requests.filter((r) => r === 'watch@1').length === 14,
      { what: '12 failed resumes and a good one' },
    );
    source.upsert({ name: 'a', v: 2 });
    await waitFor(() => store.items.get('a') === 2);
    expect(source.requests.filter((r) => r === 'list')).toHaveLength(1);
    expect(obs.log).not.toContain('listed stuck 1 items 1 pages');
  });

  it('retries resumes that fail with 5xx for maxInternalErrorRetryMs before they count', async () => {
    // Each backoff pause takes 10 s of this clock.
    let clock = 1_000_000;
    const { source, store, reflector } = setup({
      now: () => clock,
      maxInternalErrorRetryMs: 30_000,
      sleep: async () => {
        clock += 10_000;
        await new Promise((r) => setTimeout(r, 1));
      },
    });
    source.upsert({ name: 'a', v: 1 });
    reflector.start();
    await waitFor(() => source.openWatches === 1);
    const internal = (): ApiError => new ApiError(500, 'etcdserver: leader changed', 'InternalError');
    // 20 s of 500s: retried, nothing counted.
    source.failNext(internal(), internal(), internal());
    source.breakWatches();
    await waitFor(
      () => source.openWatches === 1 && source.requests.filter((r) => r === 'watch@1').length === 5,
      { what: 'three 500s retried, then a good resume' },
    );
    expect(source.requests.filter((r) => r === 'list')).toHaveLength(1);
    // 50 s of 500s: the three after the first 30 s count and relist.
    source.failNext(internal(), internal(), internal(), internal(), internal(), internal());
    source.breakWatches();
    await waitFor(() => store.calls.some((c) => c.endsWith(':stuck')), { what: 'a relist' });
    expect(source.requests.filter((r) => r === 'list')).toHaveLength(2);
    // 2 good watches, 9 failed resumes, and the watch after the relist (the list is at 1 too).
    expect(source.requests.filter((r) => r === 'watch@1')).toHaveLength(12);
  });

  it('aborts a silent watch with the watchdog and starts another (bookmarks count as activity)', async () => {
    const { source, store, reflector, obs } = setup({ watchdogMs: 150 });
    reflector.start();
    await waitFor(() => source.openWatches === 1);
    // Bookmarks keep it alive.
    for (let i = 0; i < 5; i++) {
      source.bookmark();
      await new Promise((r) => setTimeout(r, 60));
    }
    expect(obs.log.filter((l) => l === 'watch ended watchdog')).toHaveLength(0);
    source.stalled = true;
    await waitFor(() => obs.log.includes('watch ended watchdog'), { what: 'the watchdog' });
    expect(obs.log).toContain(`error ${new WatchStalledError(0).name}`);
    source.stalled = false;
    await waitFor(() => source.requests.filter((r) => r.startsWith('watch')).length >= 2);
    source.upsert({ name: 'after', v: 1 });
    await waitFor(() => store.items.has('after'), { what: 'events after the restart' });
  });

  it('applies events one at a time, in order, even when the store is slow', async () => {
    const { source, store, reflector } = setup();
    store.delayMs = 3;
    reflector.start();
    await waitFor(() => source.openWatches === 1);
    for (let i = 0; i < 30; i++) source.upsert({ name: 'k', v: i });
    await waitFor(() => store.items.get('k') === 29, { what: 'all events' });
    expect(store.maxActive).toBe(1);
    const values = store.calls.slice(1).map((c) => Number(/=(\d+)@/.exec(c)?.[1]));
    expect(values).toEqual([...Array(30).keys()]);
  });

  it('re-delivers an event whose apply failed (at least once, never skipped)', async () => {
    const { source, store, reflector } = setup();
    reflector.start();
    await waitFor(() => source.openWatches === 1);
    store.failNextApply = 1;
    source.upsert({ name: 'a', v: 1 });
    source.upsert({ name: 'b', v: 1 });
    await waitFor(() => store.items.has('b'));
    expect(store.calls.slice(1)).toEqual(['ADDED a=1@1', 'ADDED b=1@2']);
  });

  it('watch-list: the initial state streams in and ends with a bookmark, then events follow on the same watch', async () => {
    const { source, store, reflector, obs } = setup({ initialSync: 'watch-list' });
    source.upsert({ name: 'a', v: 1 });
    source.upsert({ name: 'b', v: 1 });
    reflector.start();
    await reflector.waitForSync();
    expect(store.calls[0]).toBe('replace(2)@2:initial');
    expect(source.requests).toEqual(['watch@']);
    source.upsert({ name: 'a', v: 2 });
    await waitFor(() => store.items.get('a') === 2);
    expect(source.requests).toEqual(['watch@']);
    expect(obs.log).toContain('listed initial 2 items 0 pages');
    expect(reflector.usesWatchList).toBe(true);
  });

  it('watch-list: falls back to list + watch when the server refuses it', async () => {
    const { source, store, reflector } = setup({ initialSync: 'watch-list' });
    source.rejectWatchList = true;
    source.upsert({ name: 'a', v: 1 });
    reflector.start();
    await reflector.waitForSync();
    expect(store.calls[0]).toBe('replace(1)@1:initial');
    await waitFor(() => source.openWatches === 1);
    expect(source.requests).toEqual(['watch@', 'list', 'watch@1']);
    expect(reflector.usesWatchList).toBe(false);
  });

  it('watch-list: falls back to list after two WatchLists broke before their initial events ended', async () => {
    const { source, store, reflector } = setup({ initialSync: 'watch-list' });
    source.upsert({ name: 'a', v: 1 });
    source.failNext(new ApiUnreachableError('reset'), new ApiUnreachableError('reset'));
    reflector.start();
    await reflector.waitForSync();
    expect(store.calls[0]).toBe('replace(1)@1:initial');
    expect(source.requests.slice(0, 3)).toEqual(['watch@', 'watch@', 'list']);
    expect(reflector.usesWatchList).toBe(false);
  });

  it('watch-list: a WatchList that succeeds resets the failure count (two failures far apart keep it)', async () => {
    const { source, store, reflector } = setup({ initialSync: 'watch-list' });
    source.upsert({ name: 'a', v: 1 });
    source.failNext(new ApiUnreachableError('reset'));
    reflector.start();
    await reflector.waitForSync();
    expect(source.requests).toEqual(['watch@', 'watch@']);
    // A 410 later: the relist is a WatchList again, and one failure of it is not the second in a row.
    source.failNext(new ApiUnreachableError('reset'));
    source.sendError(410, 'too old resource version');
    await waitFor(() => store.calls.some((c) => c.endsWith(':expired')), { what: 'the relist' });
    expect(source.requests).toEqual(['watch@', 'watch@', 'watch@', 'watch@']);
    expect(reflector.usesWatchList).toBe(true);
  });

  it('waitForSync: an aborted wait rejects and is forgotten', async () => {
    const { reflector } = setup();
    const waiters = (): number => (reflector as unknown as { syncWaiters: Set<unknown> }).syncWaiters.size;
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const waiting = reflector.waitForSync(controller.signal);
      controller.abort(new Error('gave up'));
      await expect(waiting).rejects.toThrow('gave up');
    }
    expect(waiters()).toBe(0);
    const kept = reflector.waitForSync();
    expect(waiters()).toBe(1);
    reflector.start();
    await kept;
    expect(waiters()).toBe(0);
  });

  it('stops: no store call after stop() resolves', async () => {
    const { source, store, reflector } = setup();
    reflector.start();
    await waitFor(() => source.openWatches === 1);
    await reflector.stop();
    const calls = store.calls.length;
    source.upsert({ name: 'late', v: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(store.calls).toHaveLength(calls);
    expect(reflector.phase).toBe('stopped');
    expect(source.openWatches).toBe(0);
  });
});
