import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/kube-object.js';
import { ClusterStore } from '../store/cluster-store.js';
import { WatchHub } from './watch-hub.js';
import { WatchStream, type WatchFormat } from './watch-stream.js';

/** The slice of ServerResponse a WatchStream uses, recording what is written. */
class RecordingResponse extends EventEmitter {
  readonly chunks: Buffer[] = [];
  writableLength = 0;
  ended = false;
  writeHead(): this {
    return this;
  }
  flushHeaders(): void {}
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
  destroy(): void {
    this.emit('close');
  }
  lines(): { type: string; object: KubeObject }[] {
    return this.chunks.map((c) => JSON.parse(c.toString()) as { type: string; object: KubeObject });
  }
}

function node(name: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: name, resourceVersion: '', creationTimestamp: '2026-01-01T00:00:00Z', labels },
  };
}

function open(hub: WatchHub, store: ClusterStore, format: WatchFormat, matches: (o: KubeObject) => boolean) {
  const res = new RecordingResponse();
  const stream = new WatchStream(res as unknown as ServerResponse, {
    kind: 'Node',
    apiVersion: 'v1',
    matches,
    format,
    bookmarks: false,
    bookmarkIntervalMs: 1_000,
    timeoutMs: undefined,
    currentRv: () => store.resourceVersion,
    onClose: (s) => hub.remove(s),
  });
  hub.add(stream);
  return { res, stream };
}

describe('WatchHub and WatchStream', () => {
  it('serialises each change once per format and writes the same bytes to every watcher', () => {
    const store = new ClusterStore();
    const hub = new WatchHub(store);
    let serialised = 0;
    const format: WatchFormat = { key: 'counting', objectJson: (o) => (serialised++, JSON.stringify(o)) };
    const a = open(hub, store, format, () => true);
    const b = open(hub, store, format, () => true);
    store.create('Node', node('n1', {}));
    expect(serialised).toBe(1);
    expect(a.res.chunks[0]).toBe(b.res.chunks[0]);
    expect(a.res.lines()[0]?.type).toBe('ADDED');
  });

  it('turns selector transitions into ADDED / DELETED and skips what never matched', () => {
    const store = new ClusterStore();
    const hub = new WatchHub(store);
    const { res } = open(
      hub,
      store,
      { key: 'json', objectJson: (o) => JSON.stringify(o) },
      (o) => o.metadata.labels?.['team'] === 'x',
    );
    store.create('Node', node('n1', {}));
    store.update('Node', node('n1', { team: 'x' }));
    store.update('Node', node('n1', { team: 'x', more: '1' }));
    store.update('Node', node('n1', { team: 'y' }));
    store.create('Node', node('n2', { team: 'x' }));
    store.delete('Node', 'n2');
    expect(res.lines().map((l) => [l.type, l.object.metadata.name])).toEqual([
      ['ADDED', 'n1'],
      ['MODIFIED', 'n1'],
      ['DELETED', 'n1'],
      ['ADDED', 'n2'],
      ['DELETED', 'n2'],
    ]);
  });

  it('writes nothing while stalled and ends stalled streams when un-stalled; dropAll ends the rest', () => {
    const store = new ClusterStore();
    const hub = new WatchHub(store);
    const json = { key: 'json', objectJson: (o: KubeObject) => JSON.stringify(o) };
    const a = open(hub, store, json, () => true);
    hub.setStalled(true);
    store.create('Node', node('n1', {}));
    a.stream.sendBookmark();
    expect(a.res.chunks).toEqual([]);
    hub.setStalled(false);
    expect(a.res.ended).toBe(true);
    expect(hub.size).toBe(0);
    const b = open(hub, store, json, () => true);
    expect(hub.dropAll('end')).toBe(1);
    expect(b.res.ended).toBe(true);
  });

  it('sends bookmarks with only kind, apiVersion and the current version', () => {
    const store = new ClusterStore();
    const hub = new WatchHub(store);
    const { res, stream } = open(
      hub,
      store,
      { key: 'json', objectJson: (o) => JSON.stringify(o) },
      () => true,
    );
    stream.sendBookmark(true);
    expect(res.lines()).toEqual([
      {
        type: 'BOOKMARK',
        object: {
          kind: 'Node',
          apiVersion: 'v1',
          metadata: {
            resourceVersion: String(store.resourceVersion),
            annotations: { 'k8s.io/initial-events-end': 'true' },
          },
        },
      },
    ]);
  });
});
