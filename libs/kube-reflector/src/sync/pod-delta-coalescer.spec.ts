import { describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { PodCountIndex } from '../pod-count-index.js';
import { PodDeltaCoalescer } from './pod-delta-coalescer.js';

describe('PodDeltaCoalescer', () => {
  it('arms once per window and hands over every delta of the window with the oldest arrival', async () => {
    const index = new PodCountIndex();
    let clock = 100;
    let due = 0;
    const coalescer = new PodDeltaCoalescer(
      index,
      20,
      () => clock,
      () => (due += 1),
    );
    coalescer.arm(); // nothing pending: not armed
    index.apply('ADDED', { uid: 'p1', nodeName: 'a', phase: 'Running' });
    coalescer.arm();
    clock = 150;
    index.apply('ADDED', { uid: 'p2', nodeName: 'b', phase: 'Running' });
    coalescer.arm();
    await waitFor(() => due === 1);
    expect(coalescer.take()).toEqual({ deltas: { a: 1, b: 1 }, allocation: {}, since: 100 });
    expect(coalescer.take()).toEqual({ deltas: {}, allocation: {}, since: undefined });
    await new Promise((r) => setTimeout(r, 40));
    expect(due).toBe(1);
  });

  it('discard forgets the deltas and disarms (a standby)', async () => {
    const index = new PodCountIndex();
    let due = 0;
    const coalescer = new PodDeltaCoalescer(index, 10, Date.now, () => (due += 1));
    for (let i = 0; i < 50; i++) index.apply('ADDED', { uid: `p${i}`, nodeName: `n${i}`, phase: 'Running' });
    coalescer.arm();
    coalescer.discard();
    expect(index.hasPendingDeltas).toBe(false);
    await new Promise((r) => setTimeout(r, 30));
    expect(due).toBe(0);
    expect(index.countOf('n7')).toBe(1);
  });
});
