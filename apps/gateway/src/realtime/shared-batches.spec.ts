import { describe, expect, it } from 'vitest';
import { toClusterName } from '@knm/contracts';
import { SharedBatches, type SharedBatch } from './shared-batches.js';

const cluster = toClusterName('dev');

function shared(fromSeq: number, seq: number, weight: number): SharedBatch {
  return { batch: { type: 'batch', cluster, fromSeq, seq, envelopes: [] }, bytes: 100, weight };
}

describe('SharedBatches', () => {
  it('gives a reader a batch from at or before its seq that carries at most about twice what it lacks', () => {
    const batches = new SharedBatches();
    const far = shared(10, 500, 1_000);
    batches.put(500, far);
    expect(batches.find(500, 10, 1_000)).toBe(far);
    expect(batches.find(500, 200, 600)).toBe(far);
    // Lacking 400 keys, it would be sent 1,000: more than twice plus the slack.
    expect(batches.find(500, 300, 400)).toBeUndefined();
    // Behind the batch's start: it would have a gap.
    expect(batches.find(500, 5, 1_200)).toBeUndefined();
    const near = shared(480, 500, 20);
    batches.put(500, near);
    expect(batches.find(500, 490, 10)).toBe(near);
    expect(batches.find(500, 200, 600)).toBe(far);
  });

  it('forgets its batches once the log moves on, and ignores one built before', () => {
    const batches = new SharedBatches();
    batches.put(500, shared(10, 500, 100));
    batches.put(499, shared(10, 499, 100));
    expect(batches.find(500, 10, 100)?.batch.seq).toBe(500);
    batches.put(501, shared(400, 501, 5));
    expect(batches.find(501, 10, 100)).toBeUndefined();
    expect(batches.find(500, 10, 100)).toBeUndefined();
  });

  it('gives the whole state only to readers that need it, and those only the whole state', () => {
    const batches = new SharedBatches();
    const whole = shared(0, 500, Infinity);
    batches.put(500, whole);
    batches.put(500, shared(100, 500, 300));
    expect(batches.find(500, 50, Infinity)).toBe(whole);
    expect(batches.find(500, 150, 300)?.batch.fromSeq).toBe(100);
    expect(batches.find(500, 50, 2_000)).toBeUndefined();
  });
});
