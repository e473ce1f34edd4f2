import { describe, expect, it } from 'vitest';
import { projectNode, type NodeSnapshot } from '@knm/contracts';
import { describeDiff, diffSize, diffState, type ComparableState } from './state-diff.js';

function node(name: string, resourceVersion: string, labels: Record<string, string> = {}): NodeSnapshot {
  return projectNode({ metadata: { name, uid: `uid-${name}`, resourceVersion, labels } });
}

const truth: ComparableState = {
  nodes: { a: node('a', '10'), b: node('b', '11', { zone: 'x' }) },
  podCounts: { a: 3, b: 1 },
};

describe('diffState', () => {
  it('finds nothing when the state equals the truth (absent and 0 pod counts are the same)', () => {
    const diff = diffState(truth, { nodes: { ...truth.nodes }, podCounts: { a: 3, b: 1, c: 0 } });
    expect(diff).toEqual({ nodes: [], podCounts: [] });
    expect(diffSize(diff)).toBe(0);
  });

  it.each<[string, ComparableState, { nodes: string[]; podCounts: string[] }]>([
    [
      'a missing node',
      { nodes: { a: node('a', '10') }, podCounts: truth.podCounts },
      { nodes: ['b'], podCounts: [] },
    ],
    [
      'an extra node',
      { nodes: { ...truth.nodes, z: node('z', '1') }, podCounts: truth.podCounts },
      { nodes: ['z'], podCounts: [] },
    ],
    [
      'an older resourceVersion',
      { nodes: { ...truth.nodes, a: node('a', '9') }, podCounts: truth.podCounts },
      { nodes: ['a'], podCounts: [] },
    ],
    [
      'a different label',
      { nodes: { ...truth.nodes, b: node('b', '11', { zone: 'y' }) }, podCounts: truth.podCounts },
      { nodes: ['b'], podCounts: [] },
    ],
    [
      'a wrong and a missing pod count',
      { nodes: truth.nodes, podCounts: { a: 4 } },
      { nodes: [], podCounts: ['a', 'b'] },
    ],
  ])('reports %s', (_what, actual, expected) => {
    expect(diffState(truth, actual)).toEqual(expected);
  });

  it('describes the first differences and counts the rest', () => {
    const actual: ComparableState = { nodes: { a: node('a', '9') }, podCounts: { a: 4 } };
    const diff = diffState(truth, actual);
    expect(diffSize(diff)).toBe(4);
    expect(describeDiff(truth, actual, diff, 1)).toBe(
      'node a: rv 9 vs truth rv 10; pods a: 4 vs truth 3; 2 more',
    );
  });
});
