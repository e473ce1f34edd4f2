import { describe, expect, it } from 'vitest';
import { ApplyPlans } from './apply-plans.js';
import { NodeSlots } from './compact-view.js';
import { allocationHash } from './usage-poll.js';

describe('ApplyPlans', () => {
  it("turns a pod_counts' counts into slots and counts once per decoded object", () => {
    const slots = new NodeSlots();
    const plans = new ApplyPlans(slots, 'probe');
    const counts = { b: 3, a: 'x', c: 0 };
    const plan = plans.podCounts(counts);
    expect([...plan.slots].map((s) => slots.name(s))).toEqual(['b', 'a', 'c']);
    expect([...plan.values]).toEqual([3, 0, 0]);
    expect(plans.podCounts(counts)).toBe(plan);
    // An equal object decoded from another frame is worked out on its own.
    expect(plans.podCounts({ ...counts })).not.toBe(plan);
  });

  it("turns an allocation's nodes into slots and allocation hashes", () => {
    const slots = new NodeSlots();
    const plans = new ApplyPlans(slots, 'probe');
    const a = { requests: { cpu: 250, memory: 1_024 }, limits: { cpu: 500 } };
    const nodes = { a, b: {} };
    const plan = plans.allocation(nodes);
    expect([...plan.slots]).toEqual([slots.slot('a'), slots.slot('b')]);
    expect([...plan.values]).toEqual([allocationHash(a), 0]);
    expect(plans.allocation(nodes)).toBe(plan);
  });

  it("reads a node snapshot's slot, resourceVersion and probe label once", () => {
    const slots = new NodeSlots();
    const plans = new ApplyPlans(slots, 'probe');
    const data = { resourceVersion: '42', labels: { probe: '1764756000000.5', other: 'x' } };
    const plan = plans.node('n1', data);
    expect(plan).toEqual({ slot: slots.slot('n1'), resourceVersion: '42', probe: '1764756000000.5' });
    expect(plans.node('n1', data)).toBe(plan);
    expect(plans.node('n2', { resourceVersion: 7, labels: { probe: 5 } })).toEqual({
      slot: slots.slot('n2'),
      resourceVersion: '7',
      probe: undefined,
    });
  });
});
