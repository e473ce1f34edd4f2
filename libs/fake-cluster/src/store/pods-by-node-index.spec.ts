import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/kube-object.js';
import { ClusterStore } from './cluster-store.js';
import { PodsByNodeIndex } from './pods-by-node-index.js';

function pod(name: string, nodeName: string | undefined, phase = 'Running'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      resourceVersion: '',
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: nodeName ? { nodeName } : {},
    status: { phase },
  };
}

describe('PodsByNodeIndex', () => {
  it('follows binding, moves and deletion; finished pods stay bound to their node', () => {
    const store = new ClusterStore();
    const index = new PodsByNodeIndex();
    store.subscribe((e) => index.apply(e));
    store.create('Pod', pod('b', undefined, 'Pending'));
    store.create('Pod', pod('a', 'n1'));
    expect(index.keysOf('n1')).toEqual(['ns/a']);
    store.update('Pod', pod('b', 'n1'));
    store.update('Pod', pod('a', 'n1', 'Succeeded'));
    expect(index.keysOf('n1')).toEqual(['ns/a', 'ns/b']);
    store.update('Pod', pod('b', 'n2'));
    expect(index.keysOf('n1')).toEqual(['ns/a']);
    expect(index.keysOf('n2')).toEqual(['ns/b']);
    store.delete('Pod', 'ns/a');
    expect(index.keysOf('n1')).toEqual([]);
  });

  it('rebuilds from scratch, ignoring unbound pods', () => {
    const index = new PodsByNodeIndex();
    index.rebuild([pod('c', 'n1'), pod('a', 'n1', 'Failed'), pod('d', undefined, 'Pending')]);
    expect(index.keysOf('n1')).toEqual(['ns/a', 'ns/c']);
    expect(index.keysOf('n9')).toEqual([]);
  });
});
