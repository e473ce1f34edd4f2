import { describe, expect, it } from 'vitest';
import { toClusterName } from '@knm/contracts';
import type { ClusterPosition } from '@knm/node-store';
import { ResponseCache } from './response-cache.js';

const a = toClusterName('a');
const b = toClusterName('b');
const body = (text: string) => Buffer.from(text);
const at = (epoch: number, seq: number, registeredAt = 'life-1'): ClusterPosition => ({
  epoch,
  seq,
  registeredAt,
});

describe('ResponseCache', () => {
  it('answers only for the exact position (life, epoch, seq) and key it was stored for', () => {
    const cache = new ResponseCache(1024);
    cache.set(a, at(1, 10), 'q1', body('ten'));
    expect(cache.get(a, at(1, 10), 'q1')?.toString()).toBe('ten');
    expect(cache.get(a, at(1, 10), 'q2')).toBeUndefined();
    expect(cache.get(b, at(1, 10), 'q1')).toBeUndefined();
    expect(cache.get(a, at(2, 10), 'q1')).toBeUndefined();
  });

  it('drops a cluster’s older entries as soon as a newer position is seen', () => {
    const cache = new ResponseCache(1024);
    cache.set(a, at(1, 10), 'q1', body('aaaa'));
    cache.set(a, at(1, 10), 'q2', body('bbbb'));
    cache.set(b, at(1, 3), 'q1', body('cc'));
    expect(cache.size).toBe(10);
    expect(cache.get(a, at(1, 11), 'q1')).toBeUndefined();
    expect(cache.size).toBe(2);
    expect(cache.get(a, at(1, 10), 'q2')).toBeUndefined();
    expect(cache.get(b, at(1, 3), 'q1')?.toString()).toBe('cc');
  });

  it('drops every entry of another life: after Redis lost its data, epoch and seq start over', () => {
    const cache = new ResponseCache(1024);
    cache.set(a, at(1, 10), 'q', body('old life'));
    expect(cache.get(a, at(1, 10, 'life-2'), 'q')).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set(a, at(1, 10, 'life-2'), 'q', body('new life'));
    expect(cache.get(a, at(1, 10, 'life-2'), 'q')?.toString()).toBe('new life');
    expect(cache.get(a, at(1, 10), 'q')).toBeUndefined();
  });

  it('never replaces a newer answer with a slower request’s older one', () => {
    const cache = new ResponseCache(1024);
    cache.set(a, at(1, 11), 'q', body('new'));
    cache.set(a, at(1, 10), 'q', body('old'));
    cache.set(a, at(1, 10), 'other', body('old too'));
    expect(cache.get(a, at(1, 11), 'q')?.toString()).toBe('new');
    expect(cache.size).toBe(3);
    cache.set(a, at(2, 1), 'q', body('next epoch'));
    expect(cache.get(a, at(2, 1), 'q')?.toString()).toBe('next epoch');
    expect(cache.size).toBe('next epoch'.length);
  });

  it('a request that read an older position finds nothing and leaves the newer answer in place', () => {
    const cache = new ResponseCache(1024);
    cache.set(a, at(1, 11), 'q', body('new'));
    expect(cache.get(a, at(1, 10), 'q')).toBeUndefined();
    expect(cache.get(a, at(1, 11), 'q')?.toString()).toBe('new');
  });

  it('keeps at most maxBytes, evicting the least recently used, and never caches a body over the bound', () => {
    const cache = new ResponseCache(10);
    cache.set(a, at(1, 1), 'q1', body('1234'));
    cache.set(b, at(1, 1), 'q1', body('5678'));
    expect(cache.get(a, at(1, 1), 'q1')?.toString()).toBe('1234'); // a is now the most recent
    cache.set(b, at(1, 1), 'q2', body('9abc'));
    expect(cache.size).toBe(8);
    expect(cache.get(b, at(1, 1), 'q1')).toBeUndefined();
    expect(cache.get(a, at(1, 1), 'q1')?.toString()).toBe('1234');
    cache.set(a, at(1, 1), 'huge', body('x'.repeat(11)));
    expect(cache.get(a, at(1, 1), 'huge')).toBeUndefined();
    expect(cache.size).toBe(8);
  });

  it('recent: the newest body of a key while it is at most maxAge old and of the same life and epoch, whatever the current seq', () => {
    let now = 1_000;
    const cache = new ResponseCache(1024, () => now);
    cache.set(a, at(1, 10), 'q1', body('ten'));
    now += 900;
    expect(cache.recent(a, at(1, 12), 'q1', 1_000)).toEqual({ at: at(1, 10), body: body('ten') });
    expect(cache.recent(a, at(1, 12), 'q2', 1_000)).toBeUndefined();
    expect(cache.recent(a, at(2, 12), 'q1', 1_000)).toBeUndefined();
    expect(cache.recent(a, at(1, 12, 'life-2'), 'q1', 1_000)).toBeUndefined();
    now += 200;
    expect(cache.recent(a, at(1, 12), 'q1', 1_000)).toBeUndefined();
  });
});
