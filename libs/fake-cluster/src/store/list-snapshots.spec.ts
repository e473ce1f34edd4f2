import { describe, expect, it } from 'vitest';
import { ListSnapshots, listIdentity } from './list-snapshots.js';

describe('ListSnapshots', () => {
  it('expires a snapshot ttl after its last use and evicts the least recently used beyond the cap', () => {
    let now = 0;
    const snaps = new ListSnapshots({ ttlMs: 100, maxSnapshots: 2, now: () => now });
    snaps.create('a', '1', []);
    now = 90;
    expect(snaps.get('a')).toBeDefined(); // renewed until 190
    now = 180;
    expect(snaps.get('a')).toBeDefined();
    now = 281;
    expect(snaps.get('a')).toBeUndefined();
    snaps.create('x', '1', []);
    snaps.create('y', '1', []);
    snaps.get('x');
    snaps.create('z', '1', []);
    expect(snaps.get('y')).toBeUndefined();
    expect(snaps.get('x')).toBeDefined();
  });

  it('identifies a snapshot by resource, namespace and version (selectors apply per page)', () => {
    const base = { resource: '/pods', resourceVersion: '5' };
    expect(listIdentity(base)).toBe(listIdentity({ ...base }));
    expect(listIdentity(base)).not.toBe(listIdentity({ ...base, namespace: 'x' }));
    expect(listIdentity(base)).not.toBe(listIdentity({ ...base, resourceVersion: '6' }));
  });
});
