import { describe, expect, it } from 'vitest';
import { toClusterName } from './cluster-name.js';
import type { Incident } from './incidents.js';
import { incidentTransitions } from './incident-transition.js';

const open: Incident = {
  id: 'n1:1000',
  cluster: toClusterName('prod'),
  node: 'n1',
  pool: 'gpu',
  start: '2026-12-02T10:00:00Z',
  cause: 'Ready=False (KubeletNotReady)',
  conditions: ['Ready'],
  flapping: false,
};
const node = { labels: { pool: 'gpu' } } as unknown as Parameters<typeof incidentTransitions>[2];

describe('incidentTransitions', () => {
  it('an incident that was not open is opened; one with an end is resolved, with the labels', () => {
    expect(incidentTransitions(false, [open], node)).toEqual([
      {
        cluster: 'prod',
        node: 'n1',
        incident: 'n1:1000',
        kind: 'opened',
        cause: 'Ready=False (KubeletNotReady)',
        startedAt: '2026-12-02T10:00:00Z',
        flapping: false,
        labels: { pool: 'gpu' },
      },
    ]);
    const closed = { ...open, end: '2026-12-02T10:01:00Z', durationMs: 60_000, flapping: true };
    expect(incidentTransitions(true, [closed], undefined)).toEqual([
      expect.objectContaining({
        kind: 'resolved',
        endedAt: '2026-12-02T10:01:00Z',
        flapping: true,
        labels: {},
      }),
    ]);
  });

  it('an open incident that gains a condition is no transition', () => {
    expect(incidentTransitions(true, [{ ...open, conditions: ['Ready', 'MemoryPressure'] }], node)).toEqual(
      [],
    );
    expect(
      incidentTransitions(false, [{ ...open, conditions: ['Ready', 'MemoryPressure'] }], node)[0]?.detail,
    ).toBe('also MemoryPressure');
  });
});
