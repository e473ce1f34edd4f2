import { describe, expect, it } from 'vitest';
import type { JsonObject, KubeObject } from '../api/kube-object.js';
import { ClusterStore } from './cluster-store.js';
import { PodAllocationIndex } from './pod-allocation-index.js';

function pod(
  name: string,
  nodeName: string | undefined,
  phase: string,
  containers: JsonObject[],
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '', creationTimestamp: '' },
    spec: { ...(nodeName ? { nodeName } : {}), containers },
    status: { phase },
  };
}
const small = [
  { name: 'a', resources: { requests: { cpu: '250m', memory: '1Mi' }, limits: { memory: '2Mi' } } },
];
const gpu = [
  {
    name: 'g',
    resources: { requests: { cpu: '1', 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } },
  },
];

describe('PodAllocationIndex', () => {
  it('sums the pods that count on each node and follows binds, moves, completion and deletion', () => {
    const store = new ClusterStore();
    const index = new PodAllocationIndex();
    store.subscribe((e) => index.apply(e));
    store.create('Pod', pod('a', undefined, 'Pending', small));
    expect(index.toRecord()).toEqual({});
    store.update('Pod', pod('a', 'n1', 'Pending', small));
    store.create('Pod', pod('b', 'n1', 'Running', gpu));
    expect(index.toRecord()).toEqual({
      n1: {
        requests: { cpu: 1250, memory: 1_048_576, 'nvidia.com/gpu': 1 },
        limits: { memory: 2_097_152, 'nvidia.com/gpu': 1 },
      },
    });
    expect(index.requested('n1', 'cpu')).toBe(1250);
    store.update('Pod', pod('b', 'n2', 'Running', gpu));
    store.update('Pod', pod('a', 'n1', 'Succeeded', small));
    expect(index.toRecord()).toEqual({
      n2: { requests: { cpu: 1000, 'nvidia.com/gpu': 1 }, limits: { 'nvidia.com/gpu': 1 } },
    });
    store.delete('Pod', 'ns/b');
    expect(index.toRecord()).toEqual({});
    expect(index.get('n2')).toEqual({ requests: {}, limits: {} });
  });

  it('rebuilds to the same sums', () => {
    const pods = [
      pod('a', 'n1', 'Running', small),
      pod('b', 'n1', 'Running', gpu),
      pod('c', 'n1', 'Failed', gpu),
    ];
    const index = new PodAllocationIndex();
    index.rebuild(pods);
    expect(index.get('n1').requests).toEqual({ cpu: 1250, memory: 1_048_576, 'nvidia.com/gpu': 1 });
  });
});
