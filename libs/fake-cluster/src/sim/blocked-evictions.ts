import type { KubeSim } from '../kube-sim.js';

/**
 * A workload a drain cannot finish, for tests of drains: two pods of a ReplicaSet
 * bound to `node`, guarded by a PodDisruptionBudget with `minAvailable: 1`, whose
 * replacements may only run on a node labelled `guarded=yes` (none is, until a test
 * labels one). A drain of `node` evicts one pod and is then refused (429) until a
 * replacement runs, so it stays running for as long as the test needs. Returns the
 * pods' keys: `default/guarded-1`, `default/guarded-2`.
 */
export function blockEvictions(sim: KubeSim, node: string): string[] {
  const meta = { namespace: 'default', uid: '', resourceVersion: '', creationTimestamp: '' };
  const rs = sim.cluster.createObject('ReplicaSet', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'guarded', ...meta },
    spec: { replicas: 2, selector: { matchLabels: { app: 'guarded' } } },
  });
  for (const i of [1, 2]) {
    sim.cluster.createObject('Pod', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `guarded-${i}`,
        ...meta,
        labels: { app: 'guarded' },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'guarded',
            uid: rs.metadata.uid,
            controller: true,
          },
        ],
      },
      spec: {
        nodeName: node,
        nodeSelector: { guarded: 'yes' },
        containers: [{ name: 'app', image: 'nginx' }],
        terminationGracePeriodSeconds: 1,
      },
    });
  }
  sim.cluster.createObject('PodDisruptionBudget', {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'guarded', ...meta },
    spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } },
  });
  return ['default/guarded-1', 'default/guarded-2'];
}
