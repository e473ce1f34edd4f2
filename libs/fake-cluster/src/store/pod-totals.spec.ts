import { describe, expect, it } from 'vitest';
import { podResourceTotals } from '@knm/contracts';
import type { KubeObject } from '../api/kube-object.js';
import { podTotals } from './pod-totals.js';

const containers = [
  { name: 'a', resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m' } } },
];
function pod(spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'u', resourceVersion: '1', creationTimestamp: '' },
    spec: spec as KubeObject['spec'],
    status: status as KubeObject['status'],
  };
}

describe('podTotals', () => {
  it('equals podResourceTotals, shared per container list, and follows overhead and resizes', () => {
    const plain = pod({ containers });
    expect(podTotals(plain)).toEqual(podResourceTotals(plain));
    expect(podTotals(pod({ containers, nodeName: 'n' }))).toBe(podTotals(plain));
    const kata = pod({ containers, overhead: { cpu: '250m' } });
    expect(podTotals(kata)).toEqual(podResourceTotals(kata));
    expect(podTotals(kata).requests['cpu']).toBe(350);
    const resized = pod(
      { containers },
      {
        containerStatuses: [
          { name: 'a', resources: { requests: { cpu: '300m' } }, allocatedResources: { cpu: '300m' } },
        ],
      },
    );
    expect(podTotals(resized)).toEqual(podResourceTotals(resized));
    expect(podTotals(resized).requests['cpu']).toBe(300);
  });
});
