import { describe, expect, it } from 'vitest';
import { podResourceTotals, type PodResourceTotals } from './pod-resources.js';

type Res = { requests?: Record<string, string>; limits?: Record<string, string> };
const c = (name: string, resources: Res, restartPolicy?: 'Always') => ({
  name,
  resources,
  ...(restartPolicy ? { restartPolicy } : {}),
});

interface Case {
  name: string;
  pod: unknown;
  want: PodResourceTotals;
}

// Expected values worked out by hand from the KEP-753 formula and component-helpers' PodRequests/PodLimits.
const cases: Case[] = [
  {
    name: 'one container',
    pod: {
      spec: {
        containers: [
          c('a', { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } }),
        ],
      },
    },
    want: { requests: { cpu: 250, memory: 67_108_864 }, limits: { cpu: 1_000, memory: 134_217_728 } },
  },
  {
    name: 'app containers are summed',
    pod: {
      spec: {
        containers: [
          c('a', { requests: { cpu: '100m' } }),
          c('b', { requests: { cpu: '200m', memory: '1Gi' } }),
        ],
      },
    },
    want: { requests: { cpu: 300, memory: 1_073_741_824 }, limits: {} },
  },
  {
    name: 'no requests, no limits: nothing',
    pod: { spec: { containers: [c('a', {}), { name: 'b' }] } },
    want: { requests: {}, limits: {} },
  },
  {
    name: 'a limit without a request requests the limit (API defaulting)',
    pod: { spec: { containers: [c('a', { limits: { cpu: '500m' }, requests: { memory: '1Mi' } })] } },
    want: { requests: { cpu: 500, memory: 1_048_576 }, limits: { cpu: 500 } },
  },
  {
    name: 'the largest ordinary init container wins when it exceeds the apps',
    pod: {
      spec: {
        initContainers: [
          c('i1', { requests: { cpu: '2' } }),
          c('i2', { requests: { cpu: '1', memory: '2Gi' } }),
        ],
        containers: [c('a', { requests: { cpu: '500m', memory: '1Gi' } })],
      },
    },
    want: { requests: { cpu: 2_000, memory: 2_147_483_648 }, limits: {} },
  },
  {
    name: 'sidecars add to the apps and to every later init container',
    pod: {
      spec: {
        initContainers: [
          c('i1', { requests: { cpu: '300m' } }),
          c('s1', { requests: { cpu: '200m' } }, 'Always'),
          c('i2', { requests: { cpu: '900m' } }),
        ],
        containers: [c('a', { requests: { cpu: '500m' } })],
      },
    },
    // apps + sidecars = 700m; init peak = max(300, 200, 200 + 900) = 1100m
    want: { requests: { cpu: 1_100 }, limits: {} },
  },
  {
    name: 'a sidecar after the last init container only adds',
    pod: {
      spec: {
        initContainers: [
          c('i1', { requests: { memory: '100Mi' } }),
          c('s1', { requests: { memory: '50Mi' } }, 'Always'),
        ],
        containers: [c('a', { requests: { memory: '100Mi' } })],
      },
    },
    want: { requests: { memory: 157_286_400 }, limits: {} },
  },
  {
    name: 'overhead adds to requests and to the limits that are set',
    pod: {
      spec: {
        overhead: { cpu: '250m', memory: '160Mi' },
        containers: [c('a', { requests: { cpu: '1' }, limits: { cpu: '2' } })],
      },
    },
    want: { requests: { cpu: 1_250, memory: 167_772_160 }, limits: { cpu: 2_250 } },
  },
  {
    name: 'every resource: storage, hugepages, GPUs, extended',
    pod: {
      spec: {
        containers: [
          c('a', {
            requests: { 'ephemeral-storage': '1G', 'hugepages-2Mi': '4Mi', 'example.com/dongle': '3' },
            limits: { 'nvidia.com/gpu': '2', 'hugepages-2Mi': '4Mi', 'example.com/dongle': '3' },
          }),
        ],
      },
    },
    want: {
      requests: {
        'ephemeral-storage': 1_000_000_000,
        'example.com/dongle': 3,
        'hugepages-2Mi': 4_194_304,
        'nvidia.com/gpu': 2,
      },
      limits: { 'example.com/dongle': 3, 'hugepages-2Mi': 4_194_304, 'nvidia.com/gpu': 2 },
    },
  },
  {
    name: 'in-place resize in progress: the larger of spec, allocated and actuated',
    pod: {
      spec: { containers: [c('a', { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1' } })] },
      status: {
        containerStatuses: [
          {
            name: 'a',
            allocatedResources: { cpu: '2', memory: '512Mi' },
            resources: { requests: { cpu: '2', memory: '512Mi' }, limits: { cpu: '3' } },
          },
        ],
      },
    },
    want: { requests: { cpu: 2_000, memory: 1_073_741_824 }, limits: { cpu: 3_000 } },
  },
  {
    name: 'infeasible resize: what the kubelet allocated and actuated, not the spec',
    pod: {
      spec: { containers: [c('a', { requests: { cpu: '8' }, limits: { cpu: '8' } })] },
      status: {
        conditions: [{ type: 'PodResizePending', reason: 'Infeasible' }],
        containerStatuses: [
          {
            name: 'a',
            allocatedResources: { cpu: '1' },
            resources: { requests: { cpu: '1' }, limits: { cpu: '2' } },
          },
        ],
      },
    },
    want: { requests: { cpu: 1_000 }, limits: { cpu: 2_000 } },
  },
  {
    name: 'infeasible resize with nothing reported by the kubelet: nothing allocated yet',
    pod: {
      spec: { containers: [c('a', { requests: { cpu: '8' }, limits: { cpu: '8' } })] },
      status: { conditions: [{ type: 'PodResizePending', reason: 'Infeasible' }] },
    },
    want: { requests: {}, limits: {} },
  },
  {
    name: 'a resize reported for one container only: the others count by their spec',
    pod: {
      spec: {
        containers: [
          c('a', { requests: { cpu: '1' } }),
          c('b', { requests: { cpu: '500m', memory: '1Mi' } }),
        ],
      },
      status: { containerStatuses: [{ name: 'a', allocatedResources: { cpu: '3' } }, { name: 'b' }] },
    },
    want: { requests: { cpu: 3_500, memory: 1_048_576 }, limits: {} },
  },
  {
    name: 'pod-level resources replace the container sum for cpu and memory',
    pod: {
      spec: {
        resources: { requests: { cpu: '3' }, limits: { cpu: '4', memory: '8Gi' } },
        containers: [c('a', { requests: { cpu: '1', 'ephemeral-storage': '1G' } })],
      },
    },
    want: {
      requests: { cpu: 3_000, 'ephemeral-storage': 1_000_000_000 },
      limits: { cpu: 4_000, memory: 8_589_934_592 },
    },
  },
  {
    name: 'odd input gives empty totals',
    pod: { spec: { containers: [c('a', { requests: { cpu: 'lots' } })] } },
    want: { requests: {}, limits: {} },
  },
  { name: 'not a pod', pod: null, want: { requests: {}, limits: {} } },
];

describe('podResourceTotals', () => {
  it.each(cases)('$name', ({ pod, want }) => {
    expect(podResourceTotals(pod)).toEqual(want);
  });
});
