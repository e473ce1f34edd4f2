import { describe, expect, it } from 'vitest';
import { OperationSchema, type Operation } from '@knm/contracts';
import { isNewer } from './operation-tracker.js';

function op(state: Operation['state'], done: number): Operation {
  return OperationSchema.parse({
    id: 'dev.00000000-0000-4000-8000-000000000000',
    cluster: 'dev',
    action: 'cordon',
    params: {},
    nodes: ['a', 'b'],
    state,
    progress: { done, total: 2 },
    results: [],
    createdBy: 'ana',
    createdAt: '2026-11-22T17:00:00Z',
  });
}

describe('isNewer', () => {
  it('lets progress move forward and reach a final state', () => {
    expect(isNewer(op('queued', 0), op('running', 1))).toBe(true);
    expect(isNewer(op('running', 1), op('completed', 2))).toBe(true);
    expect(isNewer(op('running', 1), op('running', 1))).toBe(true);
  });

  it('refuses a late copy: fewer nodes done, or running after final', () => {
    expect(isNewer(op('running', 2), op('running', 1))).toBe(false);
    expect(isNewer(op('completed', 2), op('running', 2))).toBe(false);
    expect(isNewer(op('partial', 2), op('queued', 0))).toBe(false);
  });
});
