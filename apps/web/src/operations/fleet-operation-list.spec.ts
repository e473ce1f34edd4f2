import { describe, expect, it } from 'vitest';
import { OperationSchema, type Operation } from '@knm/contracts';
import {
  newFleetOperation,
  summarizeFleetOperation,
  withStarted,
  type FleetOperation,
} from './fleet-operation.js';
import { FleetOperationList } from './fleet-operation-list.js';

function op(n: number, state: Operation['state']): Operation {
  return OperationSchema.parse({
    id: `dev.00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    cluster: 'dev',
    action: 'cordon',
    params: {},
    nodes: ['a'],
    state,
    progress: { done: state === 'completed' ? 1 : 0, total: 1 },
    results: [{ node: 'a', status: state === 'completed' ? 'succeeded' : 'pending' }],
    createdBy: 'ana',
    createdAt: '2026-12-02T06:00:00Z',
  });
}

function fleetWith(n: number, state: Operation['state']): FleetOperation {
  return withStarted(
    newFleetOperation(`fleet-${n}`, 'cordon', [{ cluster: 'dev', nodes: ['a'] }], '2026-12-02T06:00:00Z'),
    'dev',
    op(n, state),
  );
}

describe('FleetOperationList', () => {
  it('follows its members from the tracker and names them', () => {
    let shown: readonly FleetOperation[] = [];
    const list = new FleetOperationList((f) => (shown = f));
    list.add(fleetWith(1, 'queued'));
    expect(list.memberIds()).toEqual(new Set([op(1, 'queued').id]));
    list.observe([op(2, 'completed'), op(1, 'completed')]);
    expect(shown[0] && summarizeFleetOperation(shown[0]).state).toBe('succeeded');
  });

  it('keeps the newest finished ones only, and dismisses', () => {
    let shown: readonly FleetOperation[] = [];
    const list = new FleetOperationList((f) => (shown = f), 2);
    list.add(fleetWith(1, 'running'));
    for (const n of [2, 3, 4]) list.add(fleetWith(n, 'completed'));
    expect(shown.map((f) => f.id)).toEqual(['fleet-4', 'fleet-3', 'fleet-1']);
    list.dismiss('fleet-3');
    expect(shown.map((f) => f.id)).toEqual(['fleet-4', 'fleet-1']);
  });
});
