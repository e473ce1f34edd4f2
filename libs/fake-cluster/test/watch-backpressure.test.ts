import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { objectKey, startKubeSim, type KubeObject, type KubeSim } from '../src/index.js';
import { openSlowWatch, type SlowWatch } from './support/slow-watch.js';

const sims: KubeSim[] = [];
const watches: SlowWatch[] = [];
afterEach(async () => {
  for (const w of watches.splice(0)) w.close();
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function sim(options: Parameters<typeof startKubeSim>[0]): Promise<KubeSim> {
  const s = await startKubeSim({ seed: 1, autoRun: false, ...options });
  sims.push(s);
  return s;
}

async function watch(s: KubeSim, path: string, options?: Parameters<typeof openSlowWatch>[2]) {
  const w = await openSlowWatch(s, path, options);
  watches.push(w);
  expect(w.status).toBe(200);
  return w;
}

const MiB = 1024 * 1024;
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** Rewrites `count` pods (round robin) with a large annotation: about 9 KB of watch event each. */
function fatUpdates(s: KubeSim, count: number, offset = 0): void {
  const store = s.cluster.store;
  const keys = store
    .kind('Pod')
    .sorted()
    .map((p) => objectKey(p));
  const blob = 'x'.repeat(7_000);
  for (let i = offset; i < offset + count; i++) {
    const key = keys[i % keys.length] as string;
    const pod = store.get('Pod', key) as KubeObject;
    store.update('Pod', {
      ...pod,
      metadata: {
        ...pod.metadata,
        annotations: { ...pod.metadata.annotations, 'k3.test/blob': `${i}${blob}` },
      },
    });
  }
}

/** `key -> resourceVersion` of every pod in the store now. */
function podVersions(s: KubeSim): Map<string, string> {
  return new Map(
    s.cluster.store
      .kind('Pod')
      .sorted()
      .map((p) => [objectKey(p), p.metadata.resourceVersion]),
  );
}

describe('watch backlogs under backpressure', () => {
  it('a WatchList of 60,000 pods read by a slow client: every pod exactly once, the initial-events-end bookmark, then the changes made meanwhile, in order', async () => {
    const s = await sim({ nodes: 2_000, pods: 60_000 });
    const started = performance.now();
    const w = await watch(
      s,
      '/api/v1/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true',
      { bytesPerPause: MiB, pauseMs: 40 },
    );
    // The cluster keeps changing while the client is still reading the initial state.
    let rvAtBookmark: number | undefined;
    while (rvAtBookmark === undefined) {
      s.churn.step(10);
      s.advance();
      await tick(100);
      if (w.events.some((e) => e.initialEventsEnd)) rvAtBookmark = s.cluster.store.resourceVersion;
      expect(await Promise.race([w.ended.then(() => 'ended'), tick().then(() => 'open')])).toBe('open');
    }
    const initialMs = performance.now() - started;
    const end = w.events.findIndex((e) => e.initialEventsEnd);
    const bookmark = w.events[end];
    const snapshotRv = Number(bookmark?.resourceVersion);
    const initial = w.events.slice(0, end);
    // Exactly the state at the bookmark's version: every pod once, at its version then.
    const expected = new Map(
      (s.cluster.store.stateAt('Pod', snapshotRv) ?? []).map((p) => [
        objectKey(p),
        p.metadata.resourceVersion,
      ]),
    );
    expect(expected.size).toBeGreaterThanOrEqual(59_000);
    expect(initial.every((e) => e.type === 'ADDED')).toBe(true);
    expect(initial).toHaveLength(expected.size);
    expect(new Map(initial.map((e) => [e.key, e.resourceVersion]))).toEqual(expected);
    expect(bookmark?.type).toBe('BOOKMARK');
    // Changes were made while the initial state streamed; they queued behind it.
    expect(rvAtBookmark).toBeGreaterThan(snapshotRv);

    // Stop changing; the live events bring the client to the store's exact state.
    const state = new Map(expected);
    let applied = end + 1;
    await waitFor(
      () => {
        for (; applied < w.events.length; applied++) {
          const e = w.events[applied];
          if (e === undefined || e.type === 'BOOKMARK') continue;
          if (e.type === 'DELETED') state.delete(e.key);
          else state.set(e.key, e.resourceVersion);
        }
        const now = podVersions(s);
        return now.size === state.size && [...now].every(([k, v]) => state.get(k) === v);
      },
      { timeout: 60_000, interval: 200, what: 'the watch to reach the store state' },
    );
    const live = w.events.slice(end + 1).filter((e) => e.type !== 'BOOKMARK');
    expect(live.length).toBeGreaterThan(0);
    const versions = live.map((e) => Number(e.resourceVersion));
    expect(versions.every((v, i) => v > snapshotRv && (i === 0 || v > (versions[i - 1] as number)))).toBe(
      true,
    );
    expect(s.hub.size).toBe(1);
    console.log(
      `WatchList of ${initial.length} pods (${(w.bytes / MiB).toFixed(0)} MiB) to a slow client in ${Math.round(initialMs)} ms; ${live.length} live events queued behind it`,
    );
  }, 180_000);

  it('a replay from an old resourceVersion larger than 64 MiB completes, in order, and the watch goes on live', async () => {
    const s = await sim({ nodes: 10, pods: 200 });
    const from = s.cluster.store.resourceVersion;
    const count = 10_000;
    fatUpdates(s, count);
    const w = await watch(s, `/api/v1/pods?watch=true&resourceVersion=${from}`, {
      bytesPerPause: 4 * MiB,
      pauseMs: 40,
    });
    await waitFor(() => w.events.length >= count, { timeout: 120_000, interval: 100, what: 'the replay' });
    expect(w.bytes).toBeGreaterThan(64 * MiB);
    expect(w.events.every((e) => e.type === 'MODIFIED')).toBe(true);
    expect(w.events.map((e) => Number(e.resourceVersion))).toEqual(
      Array.from({ length: count }, (_, i) => from + 1 + i),
    );
    fatUpdates(s, 1, count);
    await waitFor(() => w.events.length === count + 1, { what: 'a live event after the replay' });
    expect(w.events[count]?.resourceVersion).toBe(String(s.cluster.store.resourceVersion));
    expect(s.hub.size).toBe(1);
  }, 180_000);

  it('a live watcher that stops reading is cut once more than its buffer bound is unread; one that reads gets everything', async () => {
    // The bound is kube-sim's watchBufferBytes (64 MiB by default); 4 MiB keeps the data small.
    const bound = 4 * MiB;
    const s = await sim({ nodes: 10, pods: 200, watchBufferBytes: bound });
    const from = s.cluster.store.resourceVersion;
    const path = `/api/v1/pods?watch=true&resourceVersion=${from}`;
    const stuck = await watch(s, path, { paused: true });
    const reading = await watch(s, path, { bytesPerPause: Number.POSITIVE_INFINITY });
    await waitFor(() => s.hub.size === 2, { what: 'both watches registered' });
    const count = 2_000;
    let cutAfter: number | undefined;
    for (let i = 0; i < count; i += 20) {
      fatUpdates(s, 20, i);
      if (cutAfter === undefined && s.hub.size === 1) cutAfter = i + 20;
      await tick(1); // let the sockets move what they can
    }
    // Cut after more than 4 MiB unread (about 460 events of ~9 KB, plus what the kernel's socket buffers took).
    expect(cutAfter).toBeGreaterThan(400);
    expect(cutAfter).toBeLessThan(count);
    // A paused client cannot see its socket close; once it reads, it finds a broken stream.
    stuck.resume();
    expect(await stuck.ended).toBe(false);
    expect(stuck.events.length).toBeLessThan(cutAfter as number);
    await waitFor(() => reading.events.length === count, { timeout: 120_000, what: 'the reading watcher' });
    expect(reading.events.at(-1)?.resourceVersion).toBe(String(from + count));
    expect(s.hub.size).toBe(1);
  }, 180_000);
});
