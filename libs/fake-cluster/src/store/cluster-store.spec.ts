import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/kube-object.js';
import { ClusterStore } from './cluster-store.js';
import { ObjectExistsError, ObjectNotFoundError, ResourceVersionConflictError } from './store-errors.js';
import type { StoredChange } from './change-log.js';

function node(name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: `uid-${name}`,
      resourceVersion: '',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels,
    },
  };
}

describe('ClusterStore', () => {
  it('bumps one counter per write, stamps copies, never mutates what it was given', () => {
    const store = new ClusterStore();
    const given = node('a');
    const created = store.create('Node', given);
    expect(given.metadata.resourceVersion).toBe('');
    expect(created.metadata.resourceVersion).toBe(String(store.resourceVersion));
    const before = store.resourceVersion;
    store.update('Node', node('a', { x: '1' }));
    store.create('Pod', { ...node('p'), kind: 'Pod', metadata: { ...node('p').metadata, namespace: 'ns' } });
    expect(store.resourceVersion).toBe(before + 2);
    expect(created.metadata.labels).toEqual({});
  });

  it('throws typed errors for duplicates, missing objects and stale versions', () => {
    const store = new ClusterStore();
    const a = store.create('Node', node('a'));
    expect(() => store.create('Node', node('a'))).toThrow(ObjectExistsError);
    expect(() => store.update('Node', node('b'))).toThrow(ObjectNotFoundError);
    expect(() => store.delete('Node', 'b')).toThrow(ObjectNotFoundError);
    store.update('Node', node('a', { v: '2' }));
    expect(() => store.update('Node', node('a', { v: '3' }), a.metadata.resourceVersion)).toThrow(
      ResourceVersionConflictError,
    );
  });

  it('hands listeners every change in order with the previous object; DELETED carries the deletion version', () => {
    const store = new ClusterStore();
    const seen: StoredChange[] = [];
    store.subscribe((e) => seen.push(e));
    store.create('Node', node('a'));
    store.update('Node', node('a', { x: '1' }));
    const deleted = store.delete('Node', 'a');
    expect(seen.map((e) => [e.type, e.rv, e.previous?.metadata.labels])).toEqual([
      ['ADDED', 2, undefined],
      ['MODIFIED', 3, {}],
      ['DELETED', 4, { x: '1' }],
    ]);
    expect(deleted.metadata.resourceVersion).toBe('4');
  });

  it('rebuilds the state at an older version from the log, and gives up once compacted', () => {
    const store = new ClusterStore();
    store.load('Node', [node('a'), node('b'), node('c')]);
    const rv0 = store.resourceVersion;
    store.update('Node', node('a', { changed: 'yes' }));
    store.delete('Node', 'b');
    store.create('Node', node('d'));
    store.create('Node', node('aa'));
    const past = store.stateAt('Node', rv0) ?? [];
    expect(past.map((n) => [n.metadata.name, n.metadata.labels])).toEqual([
      ['a', {}],
      ['b', {}],
      ['c', {}],
    ]);
    const mid = store.stateAt('Node', rv0 + 2) ?? [];
    expect(mid.map((n) => n.metadata.name)).toEqual(['a', 'c']);
    expect(mid[0]?.metadata.labels).toEqual({ changed: 'yes' });
    store.compact();
    expect(store.stateAt('Node', rv0)).toBeUndefined();
    expect(store.changesSince(rv0)).toBeUndefined();
    expect(store.changesSince(store.resourceVersion)).toEqual([]);
  });

  it('keeps only the newest changes when the log is full', () => {
    const store = new ClusterStore({ changeLogSize: 3 });
    store.create('Node', node('a'));
    const start = store.resourceVersion;
    for (let i = 0; i < 5; i++) store.update('Node', node('a', { i: String(i) }));
    expect(store.changesSince(start)).toBeUndefined();
    expect(store.changesSince(store.resourceVersion - 3)?.map((e) => e.rv)).toEqual([
      store.resourceVersion - 2,
      store.resourceVersion - 1,
      store.resourceVersion,
    ]);
  });

  it('lists in key order and by namespace prefix', () => {
    const store = new ClusterStore();
    const pod = (ns: string, name: string): KubeObject => ({
      ...node(name),
      kind: 'Pod',
      metadata: { ...node(name).metadata, namespace: ns },
    });
    for (const [ns, name] of [
      ['b', 'x'],
      ['a', 'z'],
      ['a', 'y'],
      ['ab', 'w'],
    ] as const)
      store.create('Pod', pod(ns, name));
    expect(
      store
        .kind('Pod')
        .sorted()
        .map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    ).toEqual(['a/y', 'a/z', 'ab/w', 'b/x']);
    expect(
      store
        .kind('Pod')
        .sorted('a/')
        .map((p) => p.metadata.name),
    ).toEqual(['y', 'z']);
  });
});
