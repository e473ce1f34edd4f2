import type { KubeSim } from '@knm/fake-cluster';

/**
 * Two pods of a ReplicaSet bound to `node`, guarded by a PodDisruptionBudget with
 * `minAvailable: 1`, their replacements unschedulable (a node selector no node has):
 * a drain of `node` evicts one and is then refused (429) until it times out, so it
 * stays running for as long as a test needs. Names: `default/guarded-1`, `-2`.
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
