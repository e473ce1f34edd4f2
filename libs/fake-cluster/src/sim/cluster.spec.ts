import { describe, expect, it } from 'vitest';
import type { KubeObject, ObjectMeta } from '../api/kube-object.js';
import { Rng } from '../world/rng.js';
import { Cluster } from './cluster.js';

/** An object as a client sends it: the server fills uid, resourceVersion and creationTimestamp. */
function sent(kind: string, meta: Partial<ObjectMeta>, spec?: KubeObject['spec']): KubeObject {
  return {
    apiVersion: 'v1',
    kind,
    metadata: { name: '', uid: '', resourceVersion: '', creationTimestamp: '', ...meta },
    ...(spec ? { spec } : {}),
  };
}

const containers = { containers: [{ name: 'c', image: 'registry.example/app:1' }] };

function clusterWith(namespace: string, seed: number): Cluster {
  const cluster = new Cluster({ random: new Rng(seed) });
  cluster.load('Namespace', [sent('Namespace', { name: namespace })]);
  return cluster;
}

describe('Cluster.createObject', () => {
  it('draws another name when the one generated from generateName is taken, as the API server does', () => {
    const cluster = clusterWith('monitoring', 42);
    // 20,000 names of 5 characters out of 27 (about 14.3 million): a dozen collisions
    // are expected, as when a DaemonSet covers thousands of nodes.
    const names = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const pod = cluster.createObject(
        'Pod',
        sent('Pod', { generateName: 'fluent-bit-', namespace: 'monitoring' }, containers),
      );
      names.add(pod.metadata.name);
    }
    expect(names.size).toBe(20_000);
  });

  it('still answers a taken explicit name with a conflict', () => {
    const cluster = clusterWith('default', 1);
    const body = sent('Pod', { name: 'web-1', namespace: 'default' }, containers);
    cluster.createObject('Pod', body);
    expect(() => cluster.createObject('Pod', body)).toThrow(/already exists/);
  });
});
