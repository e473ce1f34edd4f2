import { describe, expect, it } from 'vitest';
import { toClusterName } from './cluster-name.js';
import type { Incident, IncidentTracker } from './incidents.js';
import { mttrOf } from './incident-mttr.js';
import { trackIncident } from './incident-tracking.js';
import type { ConditionStatus, NodeSnapshot } from './node-snapshot.js';

const cluster = toClusterName('dev');
const rule = { transitions: 3, windowMs: 60_000 };

/** A node at time `t` (seconds after 06:00:00) with Ready and MemoryPressure as given. */
function node(
  t: number,
  ready: ConditionStatus,
  memory: ConditionStatus = 'False',
  reason?: string,
): NodeSnapshot {
  const at = new Date(Date.parse('2026-12-02T06:00:00Z') + t * 1000).toISOString();
  return {
    name: 'n1',
    uid: 'u1',
    resourceVersion: String(t),
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { 'node.kubernetes.io/pool': 'gpu' },
    annotations: {},
    taints: [],
    unschedulable: false,
    roles: [],
    ready,
    conditions: [
      { type: 'Ready', status: ready, lastTransitionTime: at, ...(reason ? { reason } : {}) },
      { type: 'MemoryPressure', status: memory, lastTransitionTime: at },
    ],
    addresses: [],
    capacity: {},
    allocatable: {},
    nodeInfo: {
      kubeletVersion: '',
      osImage: '',
      kernelVersion: '',
      containerRuntimeVersion: '',
      architecture: '',
      operatingSystem: '',
    },
    podCIDRs: [],
  };
}

/** Runs a sequence of snapshots (undefined = removed) through the tracker; every incident value written, in order. */
function run(
  steps: (NodeSnapshot | undefined)[],
  observedAt = '2026-12-02T07:00:00.000Z',
): { writes: Incident[]; tracker: IncidentTracker | undefined } {
  let tracker: IncidentTracker | undefined;
  let prev: NodeSnapshot | undefined;
  const writes: Incident[] = [];
  for (const next of steps) {
    const step = trackIncident({ cluster, name: 'n1', tracker, prev, next, observedAt, rule });
    writes.push(...step.incidents);
    tracker = step.tracker;
    prev = next;
  }
  return { writes, tracker };
}

describe('trackIncident', () => {
  it('a healthy node never opens one and keeps no tracker', () => {
    expect(run([node(0, 'True'), node(1, 'True')])).toEqual({ writes: [], tracker: undefined });
  });

  it('Ready False opens an incident at its transition time; Ready True closes it with the exact duration', () => {
    const { writes, tracker } = run([
      node(0, 'True'),
      node(10, 'False', 'False', 'KubeletNotReady'),
      node(25, 'True'),
    ]);
    expect(writes).toEqual([
      expect.objectContaining({
        id: `n1:${Date.parse('2026-12-02T06:00:10Z')}`,
        start: '2026-12-02T06:00:10.000Z',
        cause: 'Ready=False (KubeletNotReady)',
        pool: 'gpu',
        flapping: false,
      }),
      expect.objectContaining({
        start: '2026-12-02T06:00:10.000Z',
        end: '2026-12-02T06:00:25.000Z',
        durationMs: 15_000,
        endReason: 'recovered',
        flapping: false,
      }),
    ]);
    expect(tracker?.open).toBeUndefined();
  });

  it('pressure joining an open incident is recorded once; a change that moves no health writes nothing', () => {
    const { writes } = run([
      node(0, 'True'),
      node(1, 'True', 'True'),
      node(2, 'False', 'True'),
      node(3, 'False', 'True'),
      node(4, 'True'),
    ]);
    expect(writes.map((i) => [i.cause, i.conditions, i.durationMs])).toEqual([
      ['MemoryPressure=True', ['MemoryPressure'], undefined],
      ['MemoryPressure=True', ['MemoryPressure', 'Ready'], undefined],
      ['MemoryPressure=True', ['MemoryPressure', 'Ready'], 3_000],
    ]);
  });

  it(`marks incidents flapping once the health changed ${rule.transitions} times within the window`, () => {
    const { writes } = run([
      node(0, 'True'),
      node(1, 'False'),
      node(2, 'True'),
      node(3, 'False'),
      node(4, 'True'),
    ]);
    // flips: 1 (open), 2 (close), 3 (open: third within 60 s -> flapping), 4 (close).
    expect(writes.map((i) => [i.start, i.end !== undefined, i.flapping])).toEqual([
      ['2026-12-02T06:00:01.000Z', false, false],
      ['2026-12-02T06:00:01.000Z', true, false],
      ['2026-12-02T06:00:03.000Z', false, true],
      ['2026-12-02T06:00:03.000Z', true, true],
    ]);
  });

  it('health changes outside the window do not count', () => {
    const { writes } = run([node(0, 'True'), node(1, 'False'), node(2, 'True'), node(200, 'False')]);
    expect(writes.at(-1)?.flapping).toBe(false);
  });

  it('removing an unhealthy node closes its incident at the observation time and drops its tracker', () => {
    const { writes, tracker } = run([node(0, 'True'), node(1, 'Unknown'), undefined]);
    expect(writes.at(-1)).toEqual(
      expect.objectContaining({
        end: '2026-12-02T07:00:00.000Z',
        durationMs: 3_599_000,
        endReason: 'node_removed',
      }),
    );
    expect(tracker).toBeUndefined();
  });

  it("a node added unhealthy opens one at its condition's own transition time", () => {
    const { writes } = run([node(5, 'False')]);
    expect(writes).toEqual([
      expect.objectContaining({ start: '2026-12-02T06:00:05.000Z', cause: 'Ready=False' }),
    ]);
  });

  it('a node added unhealthy without transition times opens one at the observation time', () => {
    const added = node(5, 'False');
    added.conditions = added.conditions.map(({ lastTransitionTime: _dropped, ...c }) => c);
    const { writes } = run([added]);
    expect(writes).toEqual([expect.objectContaining({ start: '2026-12-02T07:00:00.000Z' })]);
  });
});

describe('mttrOf', () => {
  it('averages closed incidents that ended in the period, by cluster and pool', () => {
    const base = {
      node: 'n',
      start: '2026-12-02T06:00:00Z',
      cause: 'Ready=False',
      conditions: ['Ready'],
      flapping: false,
    };
    const incidents: Incident[] = [
      { ...base, id: 'a', cluster, pool: 'gpu', end: '2026-12-02T06:00:10Z', durationMs: 10_000 },
      { ...base, id: 'b', cluster, pool: 'cpu', end: '2026-12-02T06:00:30Z', durationMs: 30_000 },
      { ...base, id: 'c', cluster, pool: 'cpu', end: '2026-12-02T06:00:50Z', durationMs: 50_000 },
      { ...base, id: 'd', cluster, pool: 'cpu', end: '2026-12-03T00:00:00Z', durationMs: 1 },
      { ...base, id: 'e', cluster, pool: 'cpu' },
    ];
    expect(mttrOf(incidents, '2026-12-02T00:00:00Z', '2026-12-02T23:59:59Z')).toEqual([
      {
        cluster: 'dev',
        incidents: 3,
        mttrMs: 30_000,
        pools: [
          { pool: 'cpu', incidents: 2, mttrMs: 40_000 },
          { pool: 'gpu', incidents: 1, mttrMs: 10_000 },
        ],
      },
    ]);
  });
});
