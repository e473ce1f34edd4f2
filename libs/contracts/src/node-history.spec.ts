import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from './history.js';
import { deriveHistory } from './node-history.js';
import {
  ANNOTATION_CORDONED_BY,
  ANNOTATION_CORDON_REASON,
  type NodeCondition,
  type NodeSnapshot,
} from './node-snapshot.js';

const NOW = '2026-12-02T06:00:00.000Z';

function node(over: Partial<NodeSnapshot> = {}): NodeSnapshot {
  return {
    name: 'n1',
    uid: 'u1',
    resourceVersion: '1',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: {},
    annotations: {},
    taints: [],
    unschedulable: false,
    roles: [],
    ready: 'True',
    conditions: [
      { type: 'Ready', status: 'True', lastTransitionTime: '2026-12-01T00:00:00Z' },
      { type: 'MemoryPressure', status: 'False', lastTransitionTime: '2026-12-01T00:00:00Z' },
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
    ...over,
  };
}

const withCondition = (c: NodeCondition, base: NodeSnapshot = node()): NodeSnapshot =>
  node({ ...base, conditions: [...base.conditions.filter((x) => x.type !== c.type), c] });

const cases: {
  name: string;
  prev: NodeSnapshot | undefined;
  next: NodeSnapshot | undefined;
  want: HistoryRecord[];
}[] = [
  {
    name: 'a new node',
    prev: undefined,
    next: node(),
    want: [{ kind: 'node_added', at: NOW, timeSource: 'observed' }],
  },
  {
    name: 'a removed node',
    prev: node(),
    next: undefined,
    want: [{ kind: 'node_removed', at: NOW, timeSource: 'observed' }],
  },
  {
    name: 'nothing that matters (resourceVersion)',
    prev: node(),
    next: node({ resourceVersion: '2' }),
    want: [],
  },
  {
    name: 'Ready goes False with its own transition time',
    prev: node(),
    next: withCondition({
      type: 'Ready',
      status: 'False',
      reason: 'KubeletNotReady',
      message: 'PLEG',
      lastTransitionTime: '2026-12-02T05:59:58Z',
    }),
    want: [
      {
        kind: 'condition',
        at: '2026-12-02T05:59:58Z',
        timeSource: 'transition',
        condition: 'Ready',
        status: 'False',
        previous: 'True',
        reason: 'KubeletNotReady',
        message: 'PLEG',
      },
    ],
  },
  {
    name: 'a status change whose transition time did not move is stamped with the observation',
    prev: node(),
    next: withCondition({
      type: 'MemoryPressure',
      status: 'True',
      lastTransitionTime: '2026-12-01T00:00:00Z',
    }),
    want: [
      {
        kind: 'condition',
        at: NOW,
        timeSource: 'observed',
        condition: 'MemoryPressure',
        status: 'True',
        previous: 'False',
      },
    ],
  },
  {
    name: 'a new reason with the same status is not a transition',
    prev: node(),
    next: withCondition({
      type: 'Ready',
      status: 'True',
      reason: 'Other',
      lastTransitionTime: '2026-12-01T00:00:00Z',
    }),
    want: [],
  },
  {
    name: 'a custom node-problem-detector condition appears, another disappears',
    prev: withCondition({ type: 'FrequentKubeletRestart', status: 'False' }),
    next: withCondition({
      type: 'KernelDeadlock',
      status: 'True',
      reason: 'DockerHung',
      lastTransitionTime: '2026-12-02T05:00:00Z',
    }),
    want: [
      {
        kind: 'condition',
        at: '2026-12-02T05:00:00Z',
        timeSource: 'transition',
        condition: 'KernelDeadlock',
        status: 'True',
        reason: 'DockerHung',
      },
      {
        kind: 'condition',
        at: NOW,
        timeSource: 'observed',
        condition: 'FrequentKubeletRestart',
        status: 'Removed',
        previous: 'False',
      },
    ],
  },
  {
    name: 'cordon through knm carries its reason and author',
    prev: node(),
    next: node({
      unschedulable: true,
      annotations: { [ANNOTATION_CORDON_REASON]: 'disk swap', [ANNOTATION_CORDONED_BY]: 'alice' },
    }),
    want: [{ kind: 'cordon', at: NOW, timeSource: 'observed', reason: 'disk swap', by: 'alice' }],
  },
  {
    name: 'cordon by kubectl',
    prev: node(),
    next: node({ unschedulable: true }),
    want: [{ kind: 'cordon', at: NOW, timeSource: 'observed' }],
  },
  {
    name: 'uncordon',
    prev: node({ unschedulable: true }),
    next: node(),
    want: [{ kind: 'uncordon', at: NOW, timeSource: 'observed' }],
  },
  {
    name: 'a taint changes value: removed then added; timeAdded alone is not a change',
    prev: node({
      taints: [
        { key: 'a', value: '1', effect: 'NoSchedule' },
        { key: 'b', effect: 'NoExecute', timeAdded: '2026-12-01T00:00:00Z' },
      ],
    }),
    next: node({
      taints: [
        { key: 'b', effect: 'NoExecute', timeAdded: '2026-12-02T00:00:00Z' },
        { key: 'a', value: '2', effect: 'NoSchedule' },
      ],
    }),
    want: [
      {
        kind: 'taint_removed',
        at: NOW,
        timeSource: 'observed',
        taint: { key: 'a', value: '1', effect: 'NoSchedule' },
      },
      {
        kind: 'taint_added',
        at: NOW,
        timeSource: 'observed',
        taint: { key: 'a', value: '2', effect: 'NoSchedule' },
      },
    ],
  },
  {
    name: "the lifecycle controller's mirror taints (not-ready, unschedulable, pressure) are not entries of their own",
    prev: node(),
    next: node({
      taints: [
        { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' },
      ],
    }),
    want: [],
  },
  {
    name: 'several aspects at once: conditions, then cordon, then taints',
    prev: node(),
    next: node({
      conditions: [
        { type: 'Ready', status: 'Unknown', lastTransitionTime: 'not a time' },
        { type: 'MemoryPressure', status: 'False', lastTransitionTime: '2026-12-01T00:00:00Z' },
      ],
      unschedulable: true,
      taints: [{ key: 'x', effect: 'NoSchedule', timeAdded: '2026-12-02T05:59:59Z' }],
    }),
    want: [
      {
        kind: 'condition',
        at: NOW,
        timeSource: 'observed',
        condition: 'Ready',
        status: 'Unknown',
        previous: 'True',
      },
      { kind: 'cordon', at: NOW, timeSource: 'observed' },
      {
        kind: 'taint_added',
        at: '2026-12-02T05:59:59Z',
        timeSource: 'transition',
        taint: { key: 'x', effect: 'NoSchedule', timeAdded: '2026-12-02T05:59:59Z' },
      },
    ],
  },
];

describe('deriveHistory', () => {
  it.each(cases)('$name', ({ prev, next, want }) => {
    expect(deriveHistory(prev, next, NOW)).toEqual(want);
  });
});
