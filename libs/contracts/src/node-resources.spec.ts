import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeResourceFigures, nodeResources, resourcePercent } from './node-resources.js';
import { parseResourcePercentKey, resourcePercentKey } from './resource-sort-key.js';
import { projectNode, type KubeNodeLike } from './project-node.js';

const node = projectNode(
  JSON.parse(readFileSync(new URL('./testdata/worker-node.json', import.meta.url), 'utf8')) as KubeNodeLike,
);

describe('nodeResources', () => {
  const gpuNode = {
    ...node,
    allocatable: { cpu: '7800m', memory: '30Gi', pods: '110', 'nvidia.com/gpu': '4' },
  };

  it('puts allocatable, requests, limits, the pod count and usage side by side in base units', () => {
    const resources = nodeResources(
      gpuNode,
      12,
      { requests: { cpu: 3_900, memory: 1_073_741_824, 'nvidia.com/gpu': 1 }, limits: { cpu: 8_000 } },
      { cpu: 1_234, memory: 2_147_483_648 },
    );
    expect(resources).toEqual({
      cpu: { allocatable: 7_800, requests: 3_900, limits: 8_000, usage: 1_234 },
      memory: { allocatable: 32_212_254_720, requests: 1_073_741_824, limits: 0, usage: 2_147_483_648 },
      pods: { allocatable: 110, requests: 12, limits: 12 },
      'nvidia.com/gpu': { allocatable: 4, requests: 1, limits: 0 },
    });
    expect(resourcePercent(resources['cpu'], 'requests')).toBe(50);
    expect(resourcePercent(resources['cpu'], 'limits')).toBeCloseTo(102.56, 2);
    expect(resourcePercent(resources['nvidia.com/gpu'], 'requests')).toBe(25);
    expect(resourcePercent(resources['pods'], 'usage')).toBeNull();
  });

  it('lists a resource the pods request that the node does not offer, with nothing allocatable', () => {
    const resources = nodeResources(
      gpuNode,
      0,
      { requests: { 'example.com/dongle': 2 }, limits: {} },
      undefined,
    );
    expect(resources['example.com/dongle']).toEqual({ allocatable: 0, requests: 2, limits: 0 });
    expect(resourcePercent(resources['example.com/dongle'], 'requests')).toBeNull();
    expect(resources['cpu']).toEqual({ allocatable: 7_800, requests: 0, limits: 0 });
    expect(resourcePercent(resources['cpu'], 'usage')).toBeNull();
  });
});

describe('nodeResourceFigures', () => {
  const gpuNode = { ...node, allocatable: { cpu: '4', memory: '16Gi', pods: '110', 'nvidia.com/gpu': '2' } };
  const allocation = { requests: { cpu: 1_000, 'example.com/x': 3 }, limits: { memory: 1_024 } };

  it.each([
    ['with allocation and usage', allocation, { cpu: 5, memory: 6 }],
    ['with nothing but allocatable', undefined, undefined],
  ])(
    'equals the entry nodeResources builds, for every resource and one it lacks (%s)',
    (_n, alloc, usage) => {
      const all = nodeResources(gpuNode, 7, alloc, usage);
      for (const name of [...Object.keys(all), 'hugepages-2Mi', 'constructor']) {
        expect(nodeResourceFigures(gpuNode, 7, alloc, usage, name)).toEqual(
          Object.hasOwn(all, name) ? all[name] : undefined,
        );
      }
    },
  );
});

describe('resource percent keys', () => {
  it.each([
    ['cpu.requestsPercent', { resource: 'cpu', measure: 'requests' }],
    ['nvidia.com/gpu.limitsPercent', { resource: 'nvidia.com/gpu', measure: 'limits' }],
    ['hugepages-2Mi.usagePercent', { resource: 'hugepages-2Mi', measure: 'usage' }],
    ['cpu.requests', undefined],
    ['.requestsPercent', undefined],
    ['requestsPercent', undefined],
  ])('%j splits on the last dot', (text, expected) => {
    expect(parseResourcePercentKey(text)).toEqual(expected);
    if (expected) expect(resourcePercentKey(expected.resource, expected.measure as 'requests')).toBe(text);
  });
});
