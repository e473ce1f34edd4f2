import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { startKubeSim, type KubeSim } from '../src/index.js';
import { guardedApp } from './support/guarded-app.js';
import {
  ClientWorkspace,
  clientSuiteRuns,
  requireClient,
  rubyKubeclient as ruby,
} from './support/third-party-client.js';

// Debian's ruby-kubeclient, unmodified, against kube-sim over HTTPS with the kubeconfig.
const open: { sim: KubeSim; workspace: ClientWorkspace }[] = [];
afterEach(async () => {
  for (const { sim, workspace } of open.splice(0)) {
    workspace.dispose();
    await sim.close();
  }
});

async function setUp(extra: Partial<Parameters<typeof startKubeSim>[0]> = {}) {
  const sim = await startKubeSim({ nodes: 6, pods: 20, seed: 6, clusterName: 'rb', ...extra });
  const workspace = new ClientWorkspace(sim);
  open.push({ sim, workspace });
  const nodes = sim.cluster.store
    .kind('Node')
    .sorted()
    .map((n) => n.metadata.name);
  return { sim, workspace, nodes };
}

interface Outcome {
  status: number;
  reason?: string;
  message?: string;
  continue?: string | null;
}

describe.skipIf(!clientSuiteRuns(ruby))('ruby-kubeclient against kube-sim', { timeout: 120_000 }, () => {
  // A test, not a hook: in CI a missing client counts as a failure in the summary, not as skips.
  it('ruby-kubeclient is installed (.ci/run installs it)', () => requireClient(ruby));

  it('watch_nodes from a list version gets the change; lists decode without item kind/apiVersion', async () => {
    const { workspace, nodes } = await setUp();
    const name = nodes[3] as string;
    const out = await workspace.run<{
      listKind: string;
      names: string[];
      itemKeys: string[];
      seen: { type: string; name: string; labels: Record<string, string> };
    }>(ruby, 'watch.rb', [name]);
    expect(out.listKind).toBe('Node'); // kubeclient names a list by its items' kind
    expect(out.names).toEqual(nodes);
    expect(out.itemKeys).toEqual(['metadata', 'spec', 'status']);
    expect(out.seen).toMatchObject({ type: 'MODIFIED', name, labels: { 'knm-watch': 'seen' } });
  });

  it('continue tokens: reused with another selector, and after compaction the 410 continuation is followed', async () => {
    const { sim, workspace, nodes } = await setUp({ continueTtlMs: 0, autoRun: false }); // no lease renewals after the last list
    const changed = nodes[4] as string;
    const out = await workspace.run<{
      first: string[];
      firstRv: string;
      rest: string[];
      restRv: string;
      expired: Outcome;
      after: { name: string; labels: Record<string, string> }[];
      afterRv: string;
    }>(ruby, 'paging.rb', [changed]);
    expect(out.first).toEqual(nodes.slice(0, 2));
    expect(out.rest).toEqual(nodes.slice(2).filter((n) => n.includes('-worker-')));
    expect(out.restRv).toBe(out.firstRv);
    expect(out.expired).toMatchObject({ status: 410, reason: 'Expired', continue: expect.any(String) });
    expect(out.after.map((n) => n.name)).toEqual(nodes.slice(2));
    expect(out.after.find((n) => n.name === changed)?.labels['knm-paging']).toBe('changed');
    expect(out.afterRv).toBe(String(sim.cluster.store.resourceVersion));
  });

  it('update_node with the keys re-ordered is a no-op: same version, nothing stored', async () => {
    const { sim, workspace, nodes } = await setUp({ autoRun: false });
    const rvBefore = sim.cluster.store.resourceVersion;
    const out = await workspace.run<{ before: string; same: string }>(ruby, 'noop_replace.rb', [
      nodes[1] as string,
    ]);
    expect(out.same).toBe(out.before);
    expect(sim.cluster.store.resourceVersion).toBe(rvBefore);
  });

  it('ListOptions: 422 for bad combinations, 400 for resourceVersion with continue, 504 for a future version', async () => {
    const { workspace, nodes } = await setUp({ resourceVersionWaitMs: 200 });
    const out = await workspace.run<Record<string, Outcome>>(ruby, 'list_options.rb', [nodes[0] as string]);
    for (const key of ['matchWithoutVersion', 'exactZero']) {
      expect(out[key], key).toMatchObject({ status: 422, reason: 'Invalid' });
    }
    expect(out['continueWithVersion']).toMatchObject({
      status: 400,
      message: 'specifying resource version is not allowed when using continue',
    });
    expect(out['futureGet']).toMatchObject({ status: 504, reason: 'Timeout' });
  });

  it('reads a PodDisruptionBudget status filled in by the disruption controller', async () => {
    const { sim, workspace, nodes } = await setUp({ kubelet: { startupMs: 20 } });
    await guardedApp(sim, 'guarded', nodes[4] as string);
    await waitFor(
      () => sim.cluster.store.get('PodDisruptionBudget', 'default/guarded')?.status?.['currentHealthy'] === 3,
      { what: 'budget status counted' },
    );
    const out = await workspace.run<Record<string, unknown>>(ruby, 'pdb_status.rb', ['default', 'guarded']);
    expect(out).toEqual({
      disruptionsAllowed: 1,
      currentHealthy: 3,
      desiredHealthy: 2,
      expectedPods: 3,
      conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' }],
    });
  });

  it('node lifecycle: cordon brings the unschedulable taint; the Lease and the Events read back', async () => {
    const { workspace, nodes } = await setUp();
    const name = nodes[3] as string;
    const out = await workspace.run<{
      taints: string[];
      lease: { holder: string; duration: number; renewed: boolean };
      events: { reason: string; source: string }[];
    }>(ruby, 'node_lifecycle.rb', [name]);
    expect(out.taints).toEqual(['node.kubernetes.io/unschedulable:NoSchedule']);
    expect(out.lease).toEqual({ holder: name, duration: 40, renewed: true });
    expect(out.events).toEqual([{ reason: 'NodeNotSchedulable', source: 'kubelet' }]);
  });

  it('access reviews through the discovered review entities: allowed, and the user is kube-sim-admin', async () => {
    const { workspace } = await setUp({ autoRun: false });
    const out = await workspace.run<Record<string, unknown>>(ruby, 'auth_reviews.rb');
    expect(out).toEqual({
      allowed: true,
      resource: 'nodes',
      user: { username: 'kube-sim-admin', groups: ['system:masters', 'system:authenticated'] },
    });
  });

  it('OpenAPI v3: the index, the Node schema, and fieldValidation=Strict refusing an unknown field', async () => {
    const { workspace } = await setUp({ autoRun: false });
    const out = await workspace.run<Record<string, unknown>>(ruby, 'openapi.rb');
    expect(out).toEqual({
      groupVersions: [
        'api/v1',
        'apis/apps/v1',
        'apis/batch/v1',
        'apis/coordination.k8s.io/v1',
        'apis/policy/v1',
      ],
      nodeKind: [{ group: '', version: 'v1', kind: 'Node' }],
      refused: { status: 400, message: 'strict decoding error: unknown field "metadata.labelz"' },
    });
  });

  it('server-side apply of a node with apply_node: a conflict with the label manager, then force', async () => {
    const { workspace, nodes } = await setUp({ autoRun: false });
    const out = await workspace.run<Record<string, unknown>>(ruby, 'server_side_apply.rb', [
      nodes[2] as string,
    ]);
    expect(out).toEqual({
      conflict: {
        status: 409,
        message: 'Apply failed with 1 conflict: conflict with "rb-label" using v1: .metadata.labels.env',
      },
      env: 'staging',
      managers: [['rb-apply', 'Apply']],
    });
  });
});
