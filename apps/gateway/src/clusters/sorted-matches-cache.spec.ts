import { describe, expect, it } from 'vitest';
import { NodeListQuerySchema, type NodeListQueryInput } from '@knm/contracts';
import type { ClusterSnapshot } from '@knm/node-store';
import { compileNodeQuery } from '@knm/node-query';
import { makeNodeSnapshot } from '@knm/testing';
import { SortedMatchesCache } from './sorted-matches-cache.js';

const snapshot = (): ClusterSnapshot => ({
  seq: 1,
  epoch: 1,
  nodes: [makeNodeSnapshot('a'), makeNodeSnapshot('b'), makeNodeSnapshot('c')],
  podCounts: { a: 3, b: 1, c: 2 },
  allocation: {},
  usage: undefined,
});
const compiled = (query: NodeListQueryInput) => compileNodeQuery(NodeListQuerySchema.parse(query), '*');

describe('SortedMatchesCache', () => {
  it('sorts a snapshot once per query, whatever the page (limit, continue) asked', () => {
    const cache = new SortedMatchesCache();
    const state = snapshot();
    const first = cache.get(state, compiled({ sort: '-pods', limit: 1 }));
    expect(first.map((m) => m.key[1])).toEqual(['a', 'c', 'b']);
    expect(cache.get(state, compiled({ sort: '-pods', limit: 2, continue: 'x' }))).toBe(first);
    expect(cache.get(state, compiled({ sort: 'pods' }))).not.toBe(first);
    // Another snapshot (the cluster moved on) is sorted again.
    expect(cache.get(snapshot(), compiled({ sort: '-pods' }))).not.toBe(first);
  });

  it('keeps at most 16 queries per snapshot, the least recently used dropped', () => {
    const cache = new SortedMatchesCache();
    const state = snapshot();
    const kept = cache.get(state, compiled({ q: 'q0' }));
    const dropped = cache.get(state, compiled({ q: 'q1' }));
    for (let i = 2; i < 17; i += 1) {
      cache.get(state, compiled({ q: `q${i}` }));
      // q0 stays the most recently used.
      cache.get(state, compiled({ q: 'q0' }));
    }
    expect(cache.get(state, compiled({ q: 'q0' }))).toBe(kept);
    expect(cache.get(state, compiled({ q: 'q1' }))).not.toBe(dropped);
  });
});
