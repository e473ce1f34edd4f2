import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { blockEvictions, startKubeSim, type KubeObject, type KubeSim } from '../src/index.js';
import { installedKubectls, Kubectl, type KubectlBinary } from './support/kubectl.js';
import { expectTopAgreesWithMetrics } from './support/kubectl-top.js';

// A compact command set against every kubectl version installed (kubectl.test.ts runs the
// full matrix with the default one). Each version gets its own kube-sim claiming that minor,
// and the versions run concurrently: drain's 5 s eviction retry dominates, not the CPU.
const versions = installedKubectls();
const opened: { sim: KubeSim; kubectl: Kubectl }[] = [];

afterAll(async () => {
  for (const { sim, kubectl } of opened.splice(0)) {
    kubectl.dispose();
    await sim.close();
  }
});

async function setUp(binary: KubectlBinary) {
  const sim = await startKubeSim({
    nodes: 6,
    pods: 30,
    seed: 40 + binary.minor,
    clusterName: `v${binary.minor}`,
    kubernetesMinor: binary.minor,
    kubelet: { startupMs: 50, stopMs: 100 },
    // One metrics snapshot for the whole test: `top` and the truth it is checked against read the same one.
    metricsResolutionSeconds: 3600,
  });
  const kubectl = new Kubectl(sim.kubeconfig(), binary.path);
  opened.push({ sim, kubectl });
  const workers = sim.cluster.store
    .kind('Node')
    .sorted()
    .map((n) => n.metadata.name)
    .filter((n) => n.includes('-worker-'));
  return { sim, kubectl, workers };
}

describe
  .skipIf(versions.length === 0)
  .concurrent('kubectl versions against kube-sim', { timeout: 150_000 }, () => {
    it.each(versions)(
      'kubectl 1.$minor: auth can-i, auth whoami, get, top, label, apply --server-side, taint, cordon, describe, get events, explain, apply with validation, get pdb, drain with a blocking budget',
      async (binary) => {
        const { sim, kubectl, workers } = await setUp(binary);
        const [labelled, tainted, drained, target] = workers as [string, string, string, string];

        expect(await kubectl.ok(['auth', 'can-i', 'patch', 'nodes'])).toBe('yes\n');
        expect(await kubectl.ok(['auth', 'whoami'])).toMatch(/Username\s+kube-sim-admin\n/);

        const nodes = await kubectl.ok(['get', 'nodes']);
        expect(nodes).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
        expect(nodes).toMatch(
          new RegExp(`${labelled}\\s+Ready\\s+<none>\\s+\\S+\\s+v1\\.${binary.minor}\\.\\d+`),
        );

        await expectTopAgreesWithMetrics(sim, kubectl);

        await kubectl.ok(['label', 'node', labelled, 'env=prod']);
        expect(sim.cluster.store.get('Node', labelled)?.metadata.labels?.['env']).toBe('prod');
        const applied = join(kubectl.dir, 'node.yaml');
        writeFileSync(
          applied,
          `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${labelled}\n  labels: {env: staging}\n`,
        );
        const conflict = await kubectl.run(['apply', '--server-side', '-f', applied]);
        expect(conflict.stderr).toContain('conflict with "kubectl-label" using v1: .metadata.labels.env');
        expect(await kubectl.ok(['apply', '--server-side', '--force-conflicts', '-f', applied])).toContain(
          'serverside-applied',
        );
        expect(sim.cluster.store.get('Node', labelled)?.metadata.labels?.['env']).toBe('staging');
        await kubectl.ok(['taint', 'node', tainted, 'dedicated=gpu:NoSchedule']);
        expect(sim.cluster.store.get('Node', tainted)?.spec?.['taints']).toEqual([
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        ]);

        expect(await kubectl.ok(['cordon', labelled])).toContain('cordoned');
        await waitFor(
          async () => (await kubectl.ok(['describe', 'node', labelled])).includes('NodeNotSchedulable'),
          { timeout: 20_000, what: 'the cordon event in describe' },
        );
        const described = await kubectl.ok(['describe', 'node', labelled]);
        expect(described).toMatch(/Taints:\s+node\.kubernetes\.io\/unschedulable:NoSchedule/);
        expect(described).toMatch(new RegExp(`Lease:\\s+HolderIdentity:\\s+${labelled}`));
        expect(described).toMatch(
          /Normal\s+NodeNotSchedulable\s+\S+\s+kubelet\s+Node \S+ status is now: NodeNotSchedulable/,
        );

        // kubectl 1.27 and 1.28 read OpenAPI v2 (protobuf), later ones v3.
        expect(await kubectl.ok(['explain', 'node.spec.taints'])).toMatch(
          /FIELD: taints <\[\]Taint>[\s\S]*timeAdded\s+<string>/,
        );
        const good = join(kubectl.dir, 'good.yaml');
        const bad = join(kubectl.dir, 'bad.yaml');
        writeFileSync(
          good,
          'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: applied\n  labels: {team: a}\n',
        );
        writeFileSync(
          bad,
          'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: refused\n  labelz: {team: a}\n',
        );
        expect(await kubectl.ok(['apply', '-f', good])).toContain('namespace/applied created');
        // The second apply computes its patch from the OpenAPI schema (v2 for 1.27 and 1.28, v3
        // later), which kubectl warns about when it cannot.
        const unchanged = await kubectl.run(['apply', '-f', good]);
        expect(unchanged.stdout).toContain('namespace/applied unchanged');
        expect(unchanged.stderr).toBe('');
        const refused = await kubectl.run(['apply', '-f', bad]);
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toContain('strict decoding error: unknown field "metadata.labelz"');

        expect(await kubectl.ok(['get', 'events', '-n', 'default'])).toMatch(
          new RegExp(
            `^LAST SEEN\\s+TYPE\\s+REASON\\s+OBJECT\\s+MESSAGE\\n[\\s\\S]*Normal\\s+NodeNotSchedulable\\s+node/${labelled}\\s+Node ${labelled} status is now: NodeNotSchedulable`,
          ),
        );
        blockEvictions(sim, drained);
        await waitFor(
          () =>
            (sim.cluster.store.get('PodDisruptionBudget', 'default/guarded') as KubeObject | undefined)
              ?.status?.['currentHealthy'] === 2,
          { timeout: 20_000, what: 'guarded pods running and counted' },
        );
        expect(await kubectl.ok(['get', 'pdb', '-n', 'default'])).toMatch(
          /NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nguarded\s+1\s+N\/A\s+1\s+/,
        );
        const draining = kubectl.run(
          ['drain', drained, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=100s'],
          120_000,
        );
        await waitFor(() => sim.server.stats().evictionsRejected > 0, {
          timeout: 60_000,
          what: 'an eviction refused with 429',
        });
        await kubectl.ok(['label', 'node', target, 'guarded=yes']);
        const out = await draining;
        expect(out.code, out.stderr).toBe(0);
        expect(out.stderr + out.stdout).toMatch(
          /Cannot evict pod as it would violate the pod's disruption budget/,
        );
        expect(out.stdout).toContain(`node/${drained} drained`);
      },
    );
  });
