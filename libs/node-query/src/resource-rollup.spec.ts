import { describe, expect, it } from 'vitest';
import type { NodeSnapshot } from '@knm/contracts';
import { resourceRollup } from './resource-rollup.js';

function node(
  name: string,
  labels: Record<string, string>,
  allocatable: Record<string, string>,
): NodeSnapshot {
  return {
    name,
    uid: `uid-${name}`,
    resourceVersion: '1',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels,
    annotations: {},
    taints: [],
    unschedulable: false,
    roles: [],
    ready: 'True',
    conditions: [],
    addresses: [],
    capacity: allocatable,
    allocatable,
    nodeInfo: {
      kubeletVersion: 'v1.31.0',
      osImage: '',
      kernelVersion: '',
      containerRuntimeVersion: '',
      architecture: 'amd64',
      operatingSystem: 'linux',
    },
    podCIDRs: [],
  };
}

const small = { cpu: '2', memory: '4Gi', pods: '110' };
const gpu = { cpu: '8', memory: '32Gi', pods: '110', 'nvidia.com/gpu': '4' };
const zone = 'topology.kubernetes.io/zone';

describe('resourceRollup', () => {
  const input = {
    seq: 42,
    epoch: 1,
    nodes: [
      node(
        'a',
        { [zone]: 'z1', 'cloud.google.com/gke-nodepool': 'default', 'node.kubernetes.io/pool': 'x' },
        small,
      ),
      node('b', { [zone]: 'z2', 'karpenter.sh/nodepool': 'gpu' }, gpu),
      node('c', { [zone]: 'z1', 'eks.amazonaws.com/nodegroup': 'default' }, small),
      node('d', {}, small),
    ],
    podCounts: { a: 3, b: 5, constructor: 9 },
    allocation: {
      a: { requests: { cpu: 1_000, memory: 2 ** 30 }, limits: { memory: 2 ** 31 } },
      b: { requests: { cpu: 4_000, 'nvidia.com/gpu': 2 }, limits: {} },
    },
    usage: {
      available: true as const,
      polledAt: '2026-12-02T00:00:00Z',
      window: '15s',
      nodes: { a: { cpu: 500, memory: 2 ** 29 }, b: { cpu: 100, memory: 2 ** 30 } },
    },
  };

  it('sums every node, and by zone and pool (first pool label present; none without), usage over measured nodes', () => {
    const rollup = resourceRollup(input);
    expect(rollup.seq).toBe(42);
    expect(rollup.usage).toEqual({ available: true, polledAt: '2026-12-02T00:00:00Z', window: '15s' });
    expect(rollup.totals).toEqual({
      nodes: 4,
      measured: 2,
      resources: {
        cpu: { allocatable: 14_000, requests: 5_000, limits: 0, usage: 600 },
        memory: { allocatable: 44 * 2 ** 30, requests: 2 ** 30, limits: 2 ** 31, usage: 2 ** 29 + 2 ** 30 },
        pods: { allocatable: 440, requests: 8, limits: 8 },
        'nvidia.com/gpu': { allocatable: 4, requests: 2, limits: 0 },
      },
    });
    expect(rollup.zones.map((g) => [g.name, g.nodes, g.measured, g.resources['cpu']])).toEqual([
      ['none', 1, 0, { allocatable: 2_000, requests: 0, limits: 0 }],
      ['z1', 2, 1, { allocatable: 4_000, requests: 1_000, limits: 0, usage: 500 }],
      ['z2', 1, 1, { allocatable: 8_000, requests: 4_000, limits: 0, usage: 100 }],
    ]);
    expect(rollup.pools.map((g) => [g.name, g.nodes])).toEqual([
      ['default', 2],
      ['gpu', 1],
      ['none', 1],
    ]);
  });

  it('without a poll has no usage; an unavailable poll says why', () => {
    const { usage: _usage, ...noPoll } = input;
    expect(resourceRollup(noPoll).usage).toBeUndefined();
    expect(resourceRollup(noPoll).totals.resources['cpu']?.usage).toBeUndefined();
    const down = resourceRollup({
      ...input,
      usage: { available: false, polledAt: 't', reason: 'no metrics API' },
    });
    expect(down.usage).toEqual({ available: false, polledAt: 't', reason: 'no metrics API' });
    expect(down.totals.measured).toBe(0);
  });
});
