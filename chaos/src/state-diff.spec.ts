import { describe, expect, it } from 'vitest';
import { projectNode, type NodeSnapshot } from '@knm/contracts';
import { describeDiff, diffSize, diffState, type ComparableState } from './state-diff.js';

function node(name: string, resourceVersion: string, labels: Record<string, string> = {}): NodeSnapshot {
  return projectNode({ metadata: { name, uid: `uid-${name}`, resourceVersion, labels } });
}

const truth: ComparableState = {
  nodes: { a: node('a', '10'), b: node('b', '11', { zone: 'x' }) },
  podCounts: { a: 3, b: 1 },
  allocation: { a: { requests: { cpu: 500, memory: 1_024 }, limits: { cpu: 1_000 } } },
};
const allocation = truth.allocation;

describe('diffState', () => {
  it('finds nothing when the state equals the truth (absent and 0 pod counts are the same)', () => {
    const diff = diffState(truth, {
      nodes: { ...truth.nodes },
      podCounts: { a: 3, b: 1, c: 0 },
      // Key order does not matter; an empty allocation is none.
      allocation: {
        a: { limits: { cpu: 1_000 }, requests: { memory: 1_024, cpu: 500 } },
        b: { requests: {}, limits: {} },
      },
    });
    expect(diff).toEqual({ nodes: [], podCounts: [], allocation: [] });
    expect(diffSize(diff)).toBe(0);
  });

  it.each<[string, ComparableState, { nodes: string[]; podCounts: string[]; allocation: string[] }]>([
    [
      'a missing node',
      { nodes: { a: node('a', '10') }, podCounts: truth.podCounts, allocation },
      { nodes: ['b'], podCounts: [], allocation: [] },
    ],
    [
      'an extra node',
      { nodes: { ...truth.nodes, z: node('z', '1') }, podCounts: truth.podCounts, allocation },
      { nodes: ['z'], podCounts: [], allocation: [] },
    ],
    [
      'an older resourceVersion',
      { nodes: { ...truth.nodes, a: node('a', '9') }, podCounts: truth.podCounts, allocation },
      { nodes: ['a'], podCounts: [], allocation: [] },
    ],
    [
      'a different label',
      {
        nodes: { ...truth.nodes, b: node('b', '11', { zone: 'y' }) },
        podCounts: truth.podCounts,
        allocation,
      },
      { nodes: ['b'], podCounts: [], allocation: [] },
    ],
    [
      'a wrong and a missing pod count',
      { nodes: truth.nodes, podCounts: { a: 4 }, allocation },
      { nodes: [], podCounts: ['a', 'b'], allocation: [] },
    ],
    [
      'a wrong and a missing allocation',
      {
        nodes: truth.nodes,
        podCounts: truth.podCounts,
        allocation: { b: { requests: { cpu: 1 }, limits: {} } },
      },
      { nodes: [], podCounts: [], allocation: ['a', 'b'] },
    ],
  ])('reports %s', (_what, actual, expected) => {
    expect(diffState(truth, actual)).toEqual(expected);
  });

  it('describes the first differences and counts the rest', () => {
    const actual: ComparableState = { nodes: { a: node('a', '9') }, podCounts: { a: 4 }, allocation: {} };
    const diff = diffState(truth, actual);
    expect(diffSize(diff)).toBe(5);
    expect(describeDiff(truth, actual, diff, 1)).toBe(
      'node a: rv 9 vs truth rv 10; pods a: 4 vs truth 3; allocation a: {"requests":{},"limits":{}} vs truth {"requests":{"cpu":500,"memory":1024},"limits":{"cpu":1000}}; 2 more',
    );
  });
});
