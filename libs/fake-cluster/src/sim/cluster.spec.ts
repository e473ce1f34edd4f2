import { describe, expect, it } from 'vitest';
import { Rng } from '../world/rng.js';
import { Cluster } from './cluster.js';

describe('Cluster.createObject', () => {
  it('draws another name when the one generated from generateName is taken, as the API server does', () => {
    const cluster = new Cluster({ random: new Rng(42) });
    cluster.load('Namespace', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'monitoring' } }]);
    // 20,000 names of 5 characters out of 27 (about 14.3 million): a dozen collisions
    // are expected, as when a DaemonSet covers thousands of nodes.
    const names = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const pod = cluster.createObject('Pod', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: '', generateName: 'fluent-bit-', namespace: 'monitoring' },
        spec: { containers: [{ name: 'c', image: 'fluent-bit' }] },
      });
      names.add(pod.metadata.name);
    }
    expect(names.size).toBe(20_000);
  });

  it('still answers a taken explicit name with a conflict', () => {
    const cluster = new Cluster({ random: new Rng(1) });
    cluster.load('Namespace', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }]);
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    };
    cluster.createObject('Pod', body);
    expect(() => cluster.createObject('Pod', body)).toThrow(/already exists/);
  });
});
