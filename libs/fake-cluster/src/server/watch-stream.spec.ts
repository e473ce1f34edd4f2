import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/kube-object.js';
import { ClusterStore } from '../store/cluster-store.js';
import { WatchHub } from './watch-hub.js';
import { WatchStream, type WatchFormat, type WatchStreamOptions } from './watch-stream.js';

/**
 * The slice of ServerResponse a WatchStream uses, with backpressure: `write` keeps
 * the bytes unread and answers false once more than `highWaterMark` are waiting;
 * `read()` takes them and emits 'drain' as a socket would.
 */
class SlowResponse extends EventEmitter {
  private pending: string[] = [];
  private received = '';
  writableLength = 0;
  ended = false;
  destroyed = false;
  constructor(private readonly highWaterMark = 1024) {
    super();
  }
  writeHead(): this {
    return this;
  }
  flushHeaders(): void {}
  write(chunk: Buffer | string): boolean {
    const text = chunk.toString();
    this.pending.push(text);
    this.writableLength += Buffer.byteLength(text);
    return this.writableLength < this.highWaterMark;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
  /** Reads what is waiting (as a client would) and lets the writer go on. */
  read(): void {
    const needDrain = this.writableLength >= this.highWaterMark;
    this.received += this.pending.join('');
    this.pending = [];
    this.writableLength = 0;
    if (needDrain) this.emit('drain');
  }
  /** Reads until the writer has nothing more to write right now. */
  async readAll(): Promise<void> {
    for (let i = 0; i < 100_000; i++) {
      this.read();
      await new Promise((r) => setImmediate(r));
      if (this.pending.length === 0) return;
    }
    throw new Error('the writer never stopped');
  }
  events(): { type: string; object: KubeObject }[] {
    return this.received
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; object: KubeObject });
  }
}

function node(name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: name, resourceVersion: '', creationTimestamp: '2026-01-01T00:00:00Z', labels },
  };
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function setup(nodes: number, options: Partial<WatchStreamOptions> = {}, highWaterMark = 1024) {
  const store = new ClusterStore();
  store.load(
    'Node',
    Array.from({ length: nodes }, (_, i) => node(`n${String(i).padStart(5, '0')}`)),
  );
  const hub = new WatchHub(store);
  closers.push(() => hub.close());
  let serialised = 0;
  const format: WatchFormat = { key: 'json', objectJson: (o) => (serialised++, JSON.stringify(o)) };
  const res = new SlowResponse(highWaterMark);
  const stream = new WatchStream(res as unknown as ServerResponse, {
    kind: 'Node',
    apiVersion: 'v1',
    matches: () => true,
    format,
    bookmarks: false,
    bookmarkIntervalMs: 1_000,
    timeoutMs: undefined,
    currentRv: () => store.resourceVersion,
    onClose: (s) => hub.remove(s),
    backlogChunkBytes: 4 * 1024,
    ...options,
  });
  return { store, hub, res, stream, serialised: () => serialised };
}

describe('WatchStream backlogs', () => {
  it('serialises a backlog a chunk at a time: nothing more while the client does not read', async () => {
    const { store, hub, res, stream, serialised } = setup(2_000);
    const done = stream.replay({
      objects: store.kind('Node').sorted(),
      initialEventsEndRv: store.resourceVersion,
    });
    hub.add(stream);
    await new Promise((r) => setTimeout(r, 50));
    const oneChunk = Math.ceil((4 * 1024) / JSON.stringify(node('n00000')).length) + 1;
    expect(serialised()).toBeLessThanOrEqual(oneChunk);
    expect(res.writableLength).toBeLessThan(8 * 1024);
    expect(stream.replaying).toBe(true);
    await Promise.all([res.readAll(), done]);
    expect(stream.replaying).toBe(false);
    const events = res.events();
    expect(events).toHaveLength(2_001);
    expect(new Set(events.slice(0, 2_000).map((e) => e.object.metadata.name)).size).toBe(2_000);
    expect(events[2_000]?.object.metadata).toEqual({
      resourceVersion: String(store.resourceVersion),
      annotations: { 'k8s.io/initial-events-end': 'true' },
    });
  });

  it('queues live events (and bookmarks) behind the backlog, in order, then streams live', async () => {
    const { store, hub, res, stream } = setup(500);
    const snapshotRv = store.resourceVersion;
    const done = stream.replay({ objects: store.kind('Node').sorted(), initialEventsEndRv: snapshotRv });
    hub.add(stream);
    store.update('Node', node('n00001', { step: '1' }));
    store.create('Node', node('m1'));
    stream.sendBookmark();
    store.delete('Node', 'n00002');
    expect(stream.replaying).toBe(true);
    await Promise.all([res.readAll(), done]);
    store.update('Node', node('n00003', { step: 'live' }));
    await res.readAll();
    const tail = res.events().slice(500);
    expect(
      tail.map((e) => [e.type, e.object.metadata.name ?? '', e.object.metadata.resourceVersion]),
    ).toEqual([
      ['BOOKMARK', '', String(snapshotRv)],
      ['MODIFIED', 'n00001', String(snapshotRv + 1)],
      ['ADDED', 'm1', String(snapshotRv + 2)],
      ['BOOKMARK', '', String(snapshotRv + 2)],
      ['DELETED', 'n00002', String(snapshotRv + 3)],
      ['MODIFIED', 'n00003', String(snapshotRv + 4)],
    ]);
  });

  it('replays logged changes translated through the selectors', async () => {
    const store = new ClusterStore();
    const hub = new WatchHub(store);
    closers.push(() => hub.close());
    const from = store.resourceVersion;
    store.create('Node', node('a', { team: 'x' }));
    store.create('Node', node('b'));
    store.update('Node', node('b', { team: 'x' }));
    store.update('Node', node('a', { team: 'y' }));
    const res = new SlowResponse(64);
    const stream = new WatchStream(res as unknown as ServerResponse, {
      kind: 'Node',
      apiVersion: 'v1',
      matches: (o) => o.metadata.labels?.['team'] === 'x',
      format: { key: 'json', objectJson: (o) => JSON.stringify(o) },
      bookmarks: false,
      bookmarkIntervalMs: 1_000,
      timeoutMs: undefined,
      currentRv: () => store.resourceVersion,
      onClose: (s) => hub.remove(s),
      backlogChunkBytes: 1,
    });
    const done = stream.replay({ changes: store.changesSince(from) ?? [] });
    hub.add(stream);
    await Promise.all([res.readAll(), done]);
    expect(res.events().map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'a'],
      ['ADDED', 'b'],
      ['DELETED', 'a'],
    ]);
  });

  it('cuts a watch whose queue behind a stuck backlog passes maxQueuedBytes', async () => {
    const { store, hub, res, stream } = setup(1_000, { maxQueuedBytes: 2_000 });
    void stream.replay({ objects: store.kind('Node').sorted() });
    hub.add(stream);
    for (let i = 0; i < 5; i++) store.update('Node', node('n00001', { step: String(i) }));
    expect(stream.isClosed).toBe(false);
    for (let i = 5; i < 20 && !stream.isClosed; i++)
      store.update('Node', node('n00001', { step: String(i) }));
    expect(stream.isClosed).toBe(true);
    expect(res.destroyed).toBe(true);
    expect(hub.size).toBe(0);
  });

  it('cuts a live watcher more than maxBufferedBytes behind (no backlog)', () => {
    const { store, hub, res, stream } = setup(1, { maxBufferedBytes: 2_000 });
    hub.add(stream);
    for (let i = 0; i < 50 && !stream.isClosed; i++)
      store.update('Node', node('n00000', { step: String(i) }));
    expect(res.destroyed).toBe(true);
    expect(res.writableLength).toBeGreaterThan(2_000);
    expect(res.writableLength).toBeLessThan(3_000);
  });

  it('a stream ended during its backlog (timeout, drop) stops it; a stalled one abandons it', async () => {
    const a = setup(2_000);
    const doneA = a.stream.replay({ objects: a.store.kind('Node').sorted() });
    a.hub.add(a.stream);
    await new Promise((r) => setTimeout(r, 20));
    a.stream.end();
    await doneA;
    const written = a.serialised();
    expect(written).toBeLessThan(2_000);
    expect(a.res.ended).toBe(true);

    const b = setup(2_000);
    b.hub.setStalled(true);
    b.stream.stalled = b.hub.stalled; // as startWatch does
    await b.stream.replay({ objects: b.store.kind('Node').sorted() });
    b.hub.add(b.stream);
    b.store.update('Node', node('n00001', { step: '1' }));
    expect(b.res.writableLength).toBe(0);
    expect(b.serialised()).toBeLessThanOrEqual(Math.ceil((4 * 1024) / 120) + 1);
  });
});
