import { describe, expect, it } from 'vitest';
import { projectNode, type KubeNodeLike } from '@knm/contracts';
import type { KubeObject } from '../api/kube-object.js';
import { ClusterStore } from './cluster-store.js';
import { NodeSnapshotIndex } from './node-snapshot-index.js';

interface NodeSpec {
  uid?: string;
  labels?: Record<string, string>;
  heartbeat?: string;
  taints?: readonly { key: string; effect: string }[];
  ready?: 'True' | 'False';
  images?: readonly string[];
}

function node(name: string, spec: NodeSpec = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: spec.uid ?? `uid-${name}`,
      resourceVersion: '',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: spec.labels ?? {},
    },
    spec: { taints: (spec.taints ?? []).map((t) => ({ ...t })) },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: spec.ready ?? 'True',
          lastHeartbeatTime: spec.heartbeat ?? '2026-01-01T00:00:00Z',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
      images: (spec.images ?? []).map((n) => ({ names: [n] })),
    },
  };
}

function tracked() {
  const store = new ClusterStore();
  const index = new NodeSnapshotIndex();
  store.subscribe((e) => index.apply(e));
  return { store, index };
}

describe('NodeSnapshotIndex', () => {
  it.each([
    ['a heartbeat', { heartbeat: '2026-01-01T00:00:10Z' }],
    ['an image list change', { images: ['nginx:1.27'] }],
  ] as const)('%s keeps the snapshot and resourceVersion of the last change that mattered', (_, change) => {
    const { store, index } = tracked();
    const created = store.create('Node', node('n1'));
    store.update('Node', node('n1', change));
    store.update('Node', node('n1', { ...change, heartbeat: '2026-01-01T00:00:20Z' }));
    expect(store.get('Node', 'n1')?.metadata.resourceVersion).toBe(String(store.resourceVersion));
    expect(index.get('n1')).toEqual(projectNode(created as KubeNodeLike));
    expect(index.get('n1')?.resourceVersion).toBe(created.metadata.resourceVersion);
  });

  it.each([
    ['labels', { labels: { team: 'blue' } }],
    ['taints', { taints: [{ key: 'k', effect: 'NoSchedule' }] }],
    ['Ready', { ready: 'False' }],
  ] as const)('a change of %s takes the new snapshot and its resourceVersion', (_, change) => {
    const { store, index } = tracked();
    store.create('Node', node('n1'));
    store.update('Node', node('n1', { heartbeat: '2026-01-01T00:00:10Z' }));
    const changed = store.update('Node', node('n1', { ...change, heartbeat: '2026-01-01T00:00:10Z' }));
    store.update('Node', node('n1', { ...change, heartbeat: '2026-01-01T00:00:20Z' }));
    expect(index.get('n1')).toEqual(projectNode(changed as KubeNodeLike));
    expect(index.get('n1')?.resourceVersion).toBe(changed.metadata.resourceVersion);
  });

  it('a node deleted and re-created (another uid) takes the new one; a delete removes it', () => {
    const { store, index } = tracked();
    store.create('Node', node('n1'));
    store.delete('Node', 'n1');
    expect(index.get('n1')).toBeUndefined();
    const again = store.create('Node', node('n1', { uid: 'other' }));
    expect(index.get('n1')).toEqual(projectNode(again as KubeNodeLike));
    // Another uid under the same name through an update (a replace we were not told about).
    const swapped = store.update('Node', node('n1', { uid: 'third' }));
    expect(index.get('n1')?.uid).toBe('third');
    expect(index.get('n1')?.resourceVersion).toBe(swapped.metadata.resourceVersion);
    store.delete('Node', 'n1');
    expect(index.size).toBe(0);
  });

  it('rebuild takes each node at its own resourceVersion; toRecord is in name order; pods are ignored', () => {
    const store = new ClusterStore();
    store.load('Node', [node('b'), node('a')]);
    const index = new NodeSnapshotIndex();
    index.rebuild(store.kind('Node').values());
    store.subscribe((e) => index.apply(e));
    store.create('Pod', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', uid: 'p', resourceVersion: '', creationTimestamp: '' },
    });
    const record = index.toRecord();
    expect(Object.keys(record)).toEqual(['a', 'b']);
    expect(record['a']?.resourceVersion).toBe(store.get('Node', 'a')?.metadata.resourceVersion);
    expect(record['b']?.resourceVersion).toBe(store.get('Node', 'b')?.metadata.resourceVersion);
  });
});
