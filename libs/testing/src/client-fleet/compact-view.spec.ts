import { describe, expect, it } from 'vitest';
import { CompactView, NodeSlots, viewDigest } from './compact-view.js';
import { allocationHash, allocationOfResources, usagePoll, usagePollOfList } from './usage-poll.js';

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
      allocation: {},
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
    expect(one.full()).toEqual({ seq: 1, nodes: { z: '5' }, podCounts: {}, allocation: {} });
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

describe('CompactView allocation and usage', () => {
  const alloc = { requests: { cpu: 500, 'nvidia.com/gpu': 1 }, limits: { memory: 1_024 } };
  const poll = {
    available: true,
    polledAt: '2026-12-02T00:00:00Z',
    window: '15s',
    nodes: { a: { cpu: 10, memory: 20 }, gone: { cpu: 1, memory: 1 } },
  };
  const restNode = (name: string, cpuUsage?: number) => ({
    name,
    resources: {
      cpu: {
        allocatable: 4_000,
        requests: 500,
        limits: 0,
        ...(cpuUsage === undefined ? {} : { usage: cpuUsage }),
      },
      memory: {
        allocatable: 8_192,
        requests: 0,
        limits: 1_024,
        ...(cpuUsage === undefined ? {} : { usage: 20 }),
      },
      pods: { allocatable: 110, requests: 3, limits: 3 },
      'nvidia.com/gpu': { allocatable: 2, requests: 1, limits: 0 },
    },
  });

  it('hashes an allocation the same from an envelope and from REST resources, whatever the key order', () => {
    expect(allocationHash(allocationOfResources(restNode('a')))).toBe(allocationHash(alloc));
    expect(allocationHash({ limits: { memory: 1_024 }, requests: { 'nvidia.com/gpu': 1, cpu: 500 } })).toBe(
      allocationHash(alloc),
    );
    expect(allocationHash({ requests: {}, limits: {} })).toBe(0);
    expect(allocationHash({ requests: { cpu: 501 }, limits: {} })).not.toBe(
      allocationHash({ requests: { cpu: 500 }, limits: {} }),
    );
  });

  it('a view applied from envelopes and one loaded over REST digest alike, and like the truth', () => {
    const slots = new NodeSlots();
    const live = new CompactView(slots);
    live.load({ seq: 1, nodes: [{ name: 'a', resourceVersion: '1', podCount: 3 }] });
    live.setAllocation(slots.slot('a'), allocationHash(alloc));
    live.usage = usagePoll(poll);
    live.seq = 3;
    const loaded = new CompactView(slots);
    const { nodes: _nodes, ...status } = poll;
    loaded.load({
      seq: 3,
      nodes: [{ name: 'a', resourceVersion: '1', podCount: 3, allocation: allocationHash(alloc) }],
      usage: usagePollOfList(status, [restNode('a', 10)]),
    });
    const truth = viewDigest(3, { a: '1' }, { a: 3 }, { a: alloc }, poll);
    expect(live.digest()).toEqual(truth);
    expect(loaded.digest()).toEqual(truth);
    // Another allocation, or another poll, is another digest.
    live.setAllocation(slots.slot('a'), 0);
    expect(live.digest().allocationSha).not.toBe(truth.allocationSha);
    loaded.usage = usagePoll({ available: false, polledAt: 'later', reason: 'no metrics API' });
    expect(loaded.digest().usageSha).not.toBe(truth.usageSha);
    expect(loaded.digest().allocationSha).toBe(truth.allocationSha);
  });
});
