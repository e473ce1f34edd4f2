import { describe, expect, it } from 'vitest';
import { fleetNodeKey, groupByCluster, groupKeysByCluster, parseFleetNodeKey } from './fleet-selection.js';

describe('fleet selection keys', () => {
  it('name a node by cluster and node, and split back', () => {
    const key = fleetNodeKey({ cluster: 'edge', node: 'node-1.example.com' });
    expect(key).toBe('edge/node-1.example.com');
    expect(parseFleetNodeKey(key)).toEqual({ cluster: 'edge', node: 'node-1.example.com' });
  });

  it('refuse strings that are not keys', () => {
    for (const bad of ['', 'edge', '/node', 'edge/', 'a/b/c']) expect(parseFleetNodeKey(bad)).toBeUndefined();
  });
});

describe('groupByCluster', () => {
  it('makes one group per cluster, clusters and nodes sorted, repeats once', () => {
    expect(
      groupByCluster([
        { cluster: 'edge', node: 'n-2' },
        { cluster: 'dev', node: 'b' },
        { cluster: 'edge', node: 'n-1' },
        { cluster: 'dev', node: 'a' },
        { cluster: 'edge', node: 'n-2' },
      ]),
    ).toEqual([
      { cluster: 'dev', nodes: ['a', 'b'] },
      { cluster: 'edge', nodes: ['n-1', 'n-2'] },
    ]);
  });

  it('keeps a node name that exists in two clusters in both', () => {
    expect(groupKeysByCluster(['prod/node-1', 'dev/node-1'])).toEqual([
      { cluster: 'dev', nodes: ['node-1'] },
      { cluster: 'prod', nodes: ['node-1'] },
    ]);
  });

  it('is empty for no selection, and ignores malformed keys', () => {
    expect(groupByCluster([])).toEqual([]);
    expect(groupKeysByCluster(['oops', 'dev/a'])).toEqual([{ cluster: 'dev', nodes: ['a'] }]);
  });
});
