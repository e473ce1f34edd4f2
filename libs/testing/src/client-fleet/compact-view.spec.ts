import { describe, expect, it } from 'vitest';
import { CompactView, NodeSlots, viewDigest } from './compact-view.js';

describe('CompactView', () => {
  it('digests like viewDigest of the same maps, whatever the load order', () => {
    const slots = new NodeSlots();
    const view = new CompactView(slots);
    view.load({
      seq: 7,
      nodes: [
        { name: 'b', resourceVersion: '20', podCount: 0 },
        { name: 'a', resourceVersion: '10', podCount: 3 },
        { name: 'c', resourceVersion: 'opaque-rv', podCount: 1 },
      ],
    });
    expect(view.digest()).toEqual(viewDigest(7, { a: '10', b: '20', c: 'opaque-rv' }, { a: 3, c: 1, b: 0 }));
    expect(view.full()).toEqual({
      seq: 7,
      nodes: { a: '10', b: '20', c: 'opaque-rv' },
      podCounts: { a: 3, c: 1 },
    });
  });

  it('reflects updates, deletes and count changes, and tells different views apart', () => {
    const slots = new NodeSlots();
    const one = new CompactView(slots);
    const two = new CompactView(slots);
    const snapshot = { seq: 1, nodes: [{ name: 'a', resourceVersion: '1', podCount: 2 }] };
    one.load(snapshot);
    two.load(snapshot);
    expect(one.rawKey()).toBe(two.rawKey());
    one.setRv(slots.slot('z'), '5'); // a node added after the slots' first allocation
    one.setCount(slots.slot('a'), 0);
    one.deleteNode(slots.slot('a'));
    expect(one.rawKey()).not.toBe(two.rawKey());
    expect(one.full()).toEqual({ seq: 1, nodes: { z: '5' }, podCounts: {} });
    expect(one.digest()).toEqual(viewDigest(1, { z: '5' }, {}));
    expect(two.digest()).not.toEqual(one.digest());
  });

  it('keeps a resourceVersion too large for a float exactly, as a string', () => {
    const slots = new NodeSlots();
    const view = new CompactView(slots);
    view.load({ seq: 0, nodes: [{ name: 'n', resourceVersion: '123456789012345678901', podCount: 0 }] });
    expect(view.rv(slots.slot('n'))).toBe('123456789012345678901');
  });
});
