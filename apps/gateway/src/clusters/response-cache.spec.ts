import { describe, expect, it } from 'vitest';
import { toClusterName } from '@knm/contracts';
import { ResponseCache } from './response-cache.js';

const a = toClusterName('a');
const b = toClusterName('b');
const body = (text: string) => Buffer.from(text);

describe('ResponseCache', () => {
  it('answers only for the exact snapshot (epoch, seq) and query it was stored for', () => {
    const cache = new ResponseCache(1024);
    cache.set(a, 1, 10, 'q1', body('ten'));
    expect(cache.get(a, 1, 10, 'q1')?.toString()).toBe('ten');
    expect(cache.get(a, 1, 10, 'q2')).toBeUndefined();
    expect(cache.get(b, 1, 10, 'q1')).toBeUndefined();
    expect(cache.get(a, 2, 10, 'q1')).toBeUndefined();
  });

  it('drops a cluster’s older entries as soon as a newer snapshot is seen', () => {
    const cache = new ResponseCache(1024);
    cache.set(a, 1, 10, 'q1', body('aaaa'));
    cache.set(a, 1, 10, 'q2', body('bbbb'));
    cache.set(b, 1, 3, 'q1', body('cc'));
    expect(cache.size).toBe(10);
    expect(cache.get(a, 1, 11, 'q1')).toBeUndefined();
    expect(cache.size).toBe(2);
    expect(cache.get(a, 1, 10, 'q2')).toBeUndefined();
    expect(cache.get(b, 1, 3, 'q1')?.toString()).toBe('cc');
  });

  it('never replaces a newer answer with a slower request’s older one', () => {
    const cache = new ResponseCache(1024);
    cache.set(a, 1, 11, 'q', body('new'));
    cache.set(a, 1, 10, 'q', body('old'));
    expect(cache.get(a, 1, 11, 'q')?.toString()).toBe('new');
    cache.set(a, 2, 1, 'q', body('next epoch'));
    expect(cache.get(a, 2, 1, 'q')?.toString()).toBe('next epoch');
    expect(cache.size).toBe('next epoch'.length);
  });

  it('keeps at most maxBytes, evicting the least recently used, and never caches a body over the bound', () => {
    const cache = new ResponseCache(10);
    cache.set(a, 1, 1, 'q1', body('1234'));
    cache.set(b, 1, 1, 'q1', body('5678'));
    expect(cache.get(a, 1, 1, 'q1')?.toString()).toBe('1234'); // a is now the most recent
    cache.set(b, 1, 1, 'q2', body('9abc'));
    expect(cache.size).toBe(8);
    expect(cache.get(b, 1, 1, 'q1')).toBeUndefined();
    expect(cache.get(a, 1, 1, 'q1')?.toString()).toBe('1234');
    cache.set(a, 1, 1, 'huge', body('x'.repeat(11)));
    expect(cache.get(a, 1, 1, 'huge')).toBeUndefined();
    expect(cache.size).toBe(8);
  });

  it('recent: the newest body of a query while it is at most maxAge old and of the same epoch, whatever the current seq', () => {
    let now = 1_000;
    const cache = new ResponseCache(1024, () => now);
    cache.set(a, 1, 10, 'q1', body('ten'));
    now += 900;
    expect(cache.recent(a, 1, 'q1', 1_000)).toEqual({ seq: 10, body: body('ten') });
    expect(cache.recent(a, 1, 'q2', 1_000)).toBeUndefined();
    expect(cache.recent(a, 2, 'q1', 1_000)).toBeUndefined();
    now += 200;
    expect(cache.recent(a, 1, 'q1', 1_000)).toBeUndefined();
  });
});
