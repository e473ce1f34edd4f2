import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../api/kube-object.js';
import { podFieldSet } from '../api/field-selector.js';
import { podStatusCells } from '../api/table.js';
import { makeNode } from './node-factory.js';
import { makePod, type PodPhase } from './pod-factory.js';
import { Rng } from './rng.js';

const now = new Date('2026-11-22T12:00:00Z');
const owner = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  name: 'api-7d9f8b6c5d',
  uid: 'u-1',
  controller: true,
};

describe('makePod', () => {
  it.each<[PodPhase, string | undefined, { ready: string; status: string }, boolean]>([
    ['Running', 'n1', { ready: '1/1', status: 'Running' }, true],
    ['Pending', 'n1', { ready: '0/1', status: 'ContainerCreating' }, true],
    ['Pending', undefined, { ready: '0/1', status: 'Pending' }, false],
    ['Succeeded', 'n1', { ready: '0/1', status: 'Completed' }, false],
    ['Failed', 'n1', { ready: '0/1', status: 'Error' }, false],
  ])('a %s pod on %s prints like kubectl shows it', (phase, nodeName, cells, hasIp) => {
    const pod = makePod(new Rng(1), {
      namespace: 'payments',
      name: 'api-7d9f8b6c5d-abcde',
      owner,
      phase,
      now,
      ...(nodeName ? { nodeName, hostIP: '10.0.0.4' } : {}),
    });
    expect(pod).toMatchObject({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'api-7d9f8b6c5d-abcde', namespace: 'payments', generateName: 'api-7d9f8b6c5d-' },
    });
    expect(pod.metadata.ownerReferences).toEqual([owner]);
    expect(pod.metadata.ownerReferences?.[0]).not.toBe(owner);
    expect(podStatusCells(pod)).toMatchObject(cells);
    expect(podFieldSet(pod)).toMatchObject({ 'spec.nodeName': nodeName ?? '', 'status.phase': phase });
    expect(typeof pod.status?.['podIP'] === 'string').toBe(hasIp);
    expect(((pod.spec?.['containers'] as JsonObject[])[0] as JsonObject)['name']).toBe('api');
  });

  it('is deterministic for a seed', () => {
    const make = () =>
      makePod(new Rng(3), { namespace: 'a', name: 'b', phase: 'Running', nodeName: 'n', now });
    expect(JSON.stringify(make())).toBe(JSON.stringify(make()));
  });
});

describe('makeNode', () => {
  it('makes a worker with no taints and a GPU node with the GPU taint and capacity', () => {
    const rng = new Rng(2);
    const worker = makeNode(rng, {
      name: 'w1',
      role: 'worker',
      gpu: false,
      zone: 'eu-west-1b',
      now,
      clusterName: 'dev',
      index: 7,
    });
    expect(worker.spec?.['taints']).toBeUndefined();
    expect(worker.metadata.labels).toMatchObject({
      'topology.kubernetes.io/zone': 'eu-west-1b',
      'topology.kubernetes.io/region': 'eu-west-1',
      'kubernetes.io/hostname': 'w1',
    });
    expect(worker.status?.['addresses']).toContainEqual({ type: 'InternalIP', address: '10.0.0.11' });
    const gpu = makeNode(rng, {
      name: 'g1',
      role: 'worker',
      gpu: true,
      zone: 'eu-west-1a',
      now,
      clusterName: 'dev',
    });
    expect(gpu.spec?.['taints']).toEqual([{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]);
    expect((gpu.status?.['allocatable'] as JsonObject)['nvidia.com/gpu']).toMatch(/^[1-9]\d*$/);
  });
});
