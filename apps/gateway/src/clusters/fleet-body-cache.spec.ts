import { describe, expect, it } from 'vitest';
import { toClusterName, type FleetCluster } from '@knm/contracts';
import { FleetBodyCache } from './fleet-body-cache.js';

const cluster = (name: string, seq: number, over: Partial<FleetCluster> = {}): FleetCluster => ({
  name: toClusterName(name),
  status: 'ready',
  epoch: 1,
  seq,
  nodes: 3,
  matching: 3,
  ...over,
});

describe('FleetBodyCache', () => {
  it('keys a body by the query and every cluster state: any seq, epoch, status or error makes another key', () => {
    const base = FleetBodyCache.keyOf('{"sort":"name"}', [cluster('a', 4), cluster('b', 9)]);
    expect(FleetBodyCache.keyOf('{"sort":"name"}', [cluster('a', 4), cluster('b', 9)])).toBe(base);
    for (const other of [
      FleetBodyCache.keyOf('{"sort":"pods"}', [cluster('a', 4), cluster('b', 9)]),
      FleetBodyCache.keyOf('{"sort":"name"}', [cluster('a', 4), cluster('b', 10)]),
      FleetBodyCache.keyOf('{"sort":"name"}', [cluster('a', 4, { epoch: 2 }), cluster('b', 9)]),
      FleetBodyCache.keyOf('{"sort":"name"}', [cluster('a', 4, { status: 'stale' }), cluster('b', 9)]),
      FleetBodyCache.keyOf('{"sort":"name"}', [cluster('a', 4, { error: 'x' }), cluster('b', 9)]),
      FleetBodyCache.keyOf('{"sort":"name"}', [cluster('a', 4)]),
    ]) {
      expect(other).not.toBe(base);
    }
  });

  it('evicts the least recently used bodies past its bytes, and never keeps a body larger than them', () => {
    const cache = new FleetBodyCache(10);
    cache.set('one', Buffer.alloc(4));
    cache.set('two', Buffer.alloc(4));
    expect(cache.get('one')).toHaveLength(4); // now the most recently used
    cache.set('three', Buffer.alloc(4));
    expect(cache.get('two')).toBeUndefined();
    expect(cache.get('one')).toHaveLength(4);
    expect(cache.get('three')).toHaveLength(4);
    cache.set('huge', Buffer.alloc(11));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('one')).toHaveLength(4);
  });
});
