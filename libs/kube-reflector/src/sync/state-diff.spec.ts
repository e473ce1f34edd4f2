import { describe, expect, it } from 'vitest';
import { EMPTY_ALLOCATION, projectNode, type NodeSnapshot } from '@knm/contracts';
import { diffAllocation, diffNodes, diffPodCounts } from './state-diff.js';

const node = (
  name: string,
  labels: Record<string, string> = {},
  uid = `uid-${name}`,
  rv = '1',
): NodeSnapshot =>
  projectNode({
    metadata: { name, uid, resourceVersion: rv, labels },
    status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: rv }] },
  });

describe('diffNodes', () => {
  it('deletes what is gone, adds what is new, updates what differs in an aspect, re-creates a new uid', () => {
    const stored = [node('gone'), node('same'), node('hb'), node('labelled'), node('recreated')];
    const cached = [
      node('same'),
      node('hb', {}, 'uid-hb', '9'),
      node('labelled', { env: 'prod' }),
      node('recreated', {}, 'uid-new'),
      node('new'),
    ];
    const changes = diffNodes(stored, cached).map((c) =>
      c.type === 'node_delete'
        ? `delete ${c.name} ${c.uid}`
        : `${c.type} ${c.node.name}${c.type === 'node_update' ? ` ${c.changes.join('+')}` : ''}`,
    );
    expect(changes).toEqual([
      'delete gone uid-gone',
      'node_update labelled labels',
      'delete recreated uid-recreated',
      'node_add recreated',
      'node_add new',
    ]);
  });
});

describe('diffPodCounts', () => {
  it('gives the per-node deltas from the stored counts to the cached ones', () => {
    expect(diffPodCounts({ a: 3, b: 1, c: 2 }, { a: 3, b: 4, d: 1 })).toEqual({ b: 3, d: 1, c: -2 });
    expect(diffPodCounts({}, {})).toEqual({});
  });
});

describe('diffAllocation', () => {
  it('gives the cached allocation of the nodes that differ, and empty for those no longer cached', () => {
    const a = { requests: { cpu: 100, memory: 5 }, limits: {} };
    expect(
      diffAllocation(
        { same: a, reordered: { requests: { memory: 5, cpu: 100 }, limits: {} }, changed: a, gone: a },
        { same: a, reordered: a, changed: { requests: { cpu: 100 }, limits: { memory: 5 } }, added: a },
      ),
    ).toEqual({
      changed: { requests: { cpu: 100 }, limits: { memory: 5 } },
      added: a,
      gone: EMPTY_ALLOCATION,
    });
    expect(diffAllocation({}, {})).toEqual({});
  });
});
