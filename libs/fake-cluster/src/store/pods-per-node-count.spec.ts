import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/kube-object.js';
import { ClusterStore } from './cluster-store.js';
import { PodsPerNodeCount } from './pods-per-node-count.js';

function pod(name: string, nodeName: string | undefined, phase: string, terminating = false): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      resourceVersion: '',
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(terminating ? { deletionTimestamp: '2026-01-01T00:01:00Z' } : {}),
    },
    spec: nodeName ? { nodeName } : {},
    status: { phase },
  };
}

describe('PodsPerNodeCount', () => {
  it.each([
    ['add a bound running pod', [pod('a', 'n1', 'Running')], { n1: 1 }],
    ['an unbound pod does not count', [pod('a', undefined, 'Pending')], {}],
    [
      'binding moves it onto the node',
      [pod('a', undefined, 'Pending'), pod('a', 'n1', 'Pending')],
      { n1: 1 },
    ],
    ['Succeeded stops counting', [pod('a', 'n1', 'Running'), pod('a', 'n1', 'Succeeded')], {}],
    ['Failed stops counting', [pod('a', 'n1', 'Running'), pod('a', 'n1', 'Failed')], {}],
    ['terminating still counts', [pod('a', 'n1', 'Running'), pod('a', 'n1', 'Running', true)], { n1: 1 }],
    ['a migration moves the unit', [pod('a', 'n1', 'Running'), pod('a', 'n2', 'Running')], { n2: 1 }],
  ] as const)('%s', (_, versions, expected) => {
    const store = new ClusterStore();
    const index = new PodsPerNodeCount();
    store.subscribe((e) => index.apply(e));
    versions.forEach((v, i) => (i === 0 ? store.create('Pod', v) : store.update('Pod', v)));
    expect(index.toRecord()).toEqual(expected);
    store.delete('Pod', 'ns/a');
    expect(index.toRecord()).toEqual({});
  });

  it('rebuilds from scratch to the same counts', () => {
    const index = new PodsPerNodeCount();
    index.rebuild([
      pod('a', 'n1', 'Running'),
      pod('b', 'n1', 'Pending'),
      pod('c', 'n2', 'Succeeded'),
      pod('d', undefined, 'Pending'),
    ]);
    expect(index.toRecord()).toEqual({ n1: 2 });
  });
});
