import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '@knm/client';
import type { NodeSnapshot } from '@knm/contracts';
import { describeChange } from './change-description.js';

const snapshot = { name: 'node-12', unschedulable: true } as NodeSnapshot;
const base = { cluster: 'dev', seq: 5, timestamp: '2026-11-22T17:00:00.000Z' } as const;

function event(envelope: unknown): ChangeEvent {
  return { envelope } as ChangeEvent;
}

describe('describeChange', () => {
  it('words node changes like the original product, cordons as verbs', () => {
    expect(
      describeChange(
        event({ ...base, type: 'node_update', node: 'node-12', changes: ['labels'], data: snapshot }),
      ),
    ).toEqual({ node: 'node-12', text: 'labels updated on node-12', kinds: ['labels'] });
    expect(
      describeChange(
        event({
          ...base,
          type: 'node_update',
          node: 'node-12',
          changes: ['annotations', 'schedulable'],
          data: snapshot,
        }),
      )?.text,
    ).toBe('node-12 cordoned');
    expect(
      describeChange(
        event({
          ...base,
          type: 'node_update',
          node: 'node-12',
          changes: ['taints', 'schedulable'],
          data: snapshot,
        }),
      )?.text,
    ).toBe('taints updated on node-12; node-12 cordoned');
    expect(describeChange(event({ ...base, type: 'node_add', node: 'n', data: snapshot }))?.text).toBe(
      'n added',
    );
    expect(describeChange(event({ ...base, type: 'node_delete', node: 'n', data: { uid: 'u' } }))?.text).toBe(
      'n removed',
    );
  });

  it('stays silent for pod counts and cluster status', () => {
    expect(
      describeChange(event({ ...base, type: 'pod_counts', data: { counts: { n: 3 } } })),
    ).toBeUndefined();
    expect(
      describeChange(event({ ...base, type: 'cluster_status', data: { status: 'ready' } })),
    ).toBeUndefined();
  });
});
