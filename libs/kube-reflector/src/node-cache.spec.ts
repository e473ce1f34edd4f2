import { describe, expect, it } from 'vitest';
import { projectNode, type NodeSnapshot } from '@knm/contracts';
import { NodeCache } from './node-cache.js';

function node(
  name: string,
  patch: {
    uid?: string;
    rv?: string;
    labels?: Record<string, string>;
    heartbeat?: string;
    unschedulable?: boolean;
    ready?: string;
  } = {},
): NodeSnapshot {
  return projectNode({
    metadata: {
      name,
      uid: patch.uid ?? `uid-${name}`,
      resourceVersion: patch.rv ?? '1',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: patch.labels ?? { 'kubernetes.io/hostname': name },
    },
    spec: { unschedulable: patch.unschedulable ?? false },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: patch.ready ?? 'True',
          lastHeartbeatTime: patch.heartbeat ?? '2026-01-01T00:00:00Z',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  });
}

type Step =
  { op: 'ADDED' | 'MODIFIED' | 'DELETED'; node: NodeSnapshot } | { op: 'RELIST'; nodes: NodeSnapshot[] };

interface Case {
  name: string;
  setup?: NodeSnapshot[];
  step: Step;
  /** Expected changes as `type name [aspects]`. */
  changes: string[];
  suppressed?: number;
  after: string[];
}

const cases: Case[] = [
  { name: 'add', step: { op: 'ADDED', node: node('a') }, changes: ['node_add a'], after: ['a'] },
  {
    name: 'MODIFIED of an unknown node is an add',
    step: { op: 'MODIFIED', node: node('a') },
    changes: ['node_add a'],
    after: ['a'],
  },
  {
    name: 'heartbeat-only update: suppressed and counted',
    setup: [node('a')],
    step: { op: 'MODIFIED', node: node('a', { rv: '2', heartbeat: '2026-01-01T00:00:10Z' }) },
    changes: [],
    suppressed: 1,
    after: ['a'],
  },
  {
    name: 'label change',
    setup: [node('a')],
    step: { op: 'MODIFIED', node: node('a', { rv: '2', labels: { env: 'prod' } }) },
    changes: ['node_update a [labels]'],
    after: ['a'],
  },
  {
    name: 'cordon and NotReady together',
    setup: [node('a')],
    step: { op: 'MODIFIED', node: node('a', { rv: '2', unschedulable: true, ready: 'False' }) },
    changes: ['node_update a [schedulable,status]'],
    after: ['a'],
  },
  {
    name: 'delete',
    setup: [node('a'), node('b')],
    step: { op: 'DELETED', node: node('a') },
    changes: ['node_delete a uid-a'],
    after: ['b'],
  },
  { name: 'delete of an unknown node', step: { op: 'DELETED', node: node('x') }, changes: [], after: [] },
  {
    name: 're-created under the same name (new uid)',
    setup: [node('a')],
    step: { op: 'MODIFIED', node: node('a', { uid: 'uid-a2' }) },
    changes: ['node_delete a uid-a', 'node_add a'],
    after: ['a'],
  },
  {
    name: 'relist: vanished nodes deleted first, then adds and updates; heartbeat-only differences ignored',
    setup: [node('a'), node('b'), node('c')],
    step: {
      op: 'RELIST',
      nodes: [
        node('a', { rv: '9', heartbeat: '2026-01-02T00:00:00Z' }),
        node('c', { labels: { x: 'y' } }),
        node('d'),
      ],
    },
    changes: ['node_delete b uid-b', 'node_update c [labels]', 'node_add d'],
    after: ['a', 'c', 'd'],
  },
  {
    name: 'relist to empty',
    setup: [node('a')],
    step: { op: 'RELIST', nodes: [] },
    changes: ['node_delete a uid-a'],
    after: [],
  },
];

describe('NodeCache', () => {
  it.each(cases)('$name', ({ setup = [], step, changes, suppressed = 0, after }) => {
    const cache = new NodeCache();
    cache.replace(setup);
    const out =
      step.op === 'RELIST'
        ? cache.replace(step.nodes)
        : cache.apply({ type: step.op, object: step.node, resourceVersion: step.node.resourceVersion });
    expect(
      out.map((c) =>
        c.type === 'node_delete'
          ? `node_delete ${c.name} ${c.uid}`
          : c.type === 'node_update'
            ? `node_update ${c.node.name} [${c.changes.join(',')}]`
            : `node_add ${c.node.name}`,
      ),
    ).toEqual(changes);
    expect(cache.suppressed).toBe(suppressed);
    expect(
      cache
        .list()
        .map((n) => n.name)
        .sort(),
    ).toEqual(after);
  });

  it('keeps the snapshot last written when an update is suppressed', () => {
    const cache = new NodeCache();
    cache.apply({ type: 'ADDED', object: node('a', { rv: '1' }), resourceVersion: '1' });
    cache.apply({
      type: 'MODIFIED',
      object: node('a', { rv: '2', heartbeat: '2026-01-01T00:01:00Z' }),
      resourceVersion: '2',
    });
    expect(cache.get('a')?.resourceVersion).toBe('1');
    cache.apply({
      type: 'MODIFIED',
      object: node('a', { rv: '3', labels: { k: 'v' } }),
      resourceVersion: '3',
    });
    expect(cache.get('a')?.resourceVersion).toBe('3');
  });
});
