import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { quantityToBaseUnits } from '@knm/contracts';
import { startKubeSim, type KubeSim } from '../src/index.js';
import { guardedApp } from './support/guarded-app.js';
import {
  ClientWorkspace,
  clientSuiteRuns,
  pythonKubernetes as python,
  requireClient,
} from './support/third-party-client.js';

// Debian's python3-kubernetes, unmodified, against kube-sim over HTTPS with the kubeconfig.
const open: { sim: KubeSim; workspace: ClientWorkspace }[] = [];
afterEach(async () => {
  for (const { sim, workspace } of open.splice(0)) {
    workspace.dispose();
    await sim.close();
  }
});

async function setUp(extra: Partial<Parameters<typeof startKubeSim>[0]> = {}) {
  const sim = await startKubeSim({ nodes: 6, pods: 20, seed: 5, clusterName: 'py', ...extra });
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
}

describe.skipIf(!clientSuiteRuns(python))('python3-kubernetes against kube-sim', { timeout: 120_000 }, () => {
  // A test, not a hook: in CI a missing client counts as a failure in the summary, not as skips.
  it('python3-kubernetes is installed (.ci/run installs it)', () => requireClient(python));

  it('Watch().stream (watch=True) replays changes, sends the initial ADDED events, and bookmarks with allowWatchBookmarks=True', async () => {
    const { workspace, nodes } = await setUp({ bookmarkIntervalMs: 100 });
    const name = nodes[2] as string;
    const out = await workspace.run<{
      replayed: { type: string; name: string; labels: Record<string, string> }[];
      added: string[];
      bookmarks: string[];
      latest: string;
    }>(python, 'watch_stream.py', [name]);
    expect(out.replayed).toEqual([
      expect.objectContaining({
        type: 'MODIFIED',
        name,
        labels: expect.objectContaining({ 'knm-watch': 'seen' }),
      }),
    ]);
    expect(out.added).toEqual(nodes.map(() => 'ADDED'));
    expect(out.bookmarks).toHaveLength(1);
    expect(Number(out.bookmarks[0])).toBeGreaterThanOrEqual(Number(out.latest));
  });

  it('continue tokens: reused with another selector, and after compaction the 410 continuation is followed', async () => {
    const { sim, workspace, nodes } = await setUp({ continueTtlMs: 0, autoRun: false }); // no lease renewals after the last list
    const changed = nodes[5] as string;
    const out = await workspace.run<{
      first: string[];
      firstRv: string;
      rest: string[];
      restRv: string;
      restContinue: string | null;
      expired: { status: number; reason: string; continue: string };
      after: { name: string; labels: Record<string, string> }[];
      afterRv: string;
    }>(python, 'paging.py', [changed]);
    expect(out.first).toEqual(nodes.slice(0, 2));
    expect(out.rest).toEqual(nodes.slice(2).filter((n) => n.includes('-worker-')));
    expect(out.restRv).toBe(out.firstRv);
    expect(out.restContinue).toBeNull();
    expect(out.expired).toMatchObject({ status: 410, reason: 'Expired' });
    expect(out.expired.continue).toEqual(expect.any(String));
    expect(out.after.map((n) => n.name)).toEqual(nodes.slice(2));
    expect(out.after.find((n) => n.name === changed)?.labels['knm-paging']).toBe('changed');
    expect(out.afterRv).toBe(String(sim.cluster.store.resourceVersion));
  });

  it('lists decode although their items carry no kind/apiVersion; single objects carry them', async () => {
    const { workspace, nodes } = await setUp();
    const out = await workspace.run<{
      status: number;
      kind: string;
      apiVersion: string;
      itemKeys: string[];
      typedNames: string[];
      typedKinds: (string | null)[];
      podNames: string[];
      single: string;
    }>(python, 'list_items.py');
    expect(out).toMatchObject({ status: 200, kind: 'NodeList', apiVersion: 'v1', single: 'Node' });
    expect(out.itemKeys).toEqual(['metadata', 'spec', 'status']);
    expect(out.typedNames).toEqual(nodes);
    expect(out.typedKinds.every((k) => k === null)).toBe(true);
    expect(out.podNames).toHaveLength(3);
  });

  it('replace_node of the object just read (re-serialized by the client) is a no-op; a real change is a new version', async () => {
    const { sim, workspace, nodes } = await setUp({ autoRun: false });
    const name = nodes[1] as string;
    const rvBefore = sim.cluster.store.resourceVersion;
    const out = await workspace.run<{ before: string; same: string; changed: string; changedLabel: string }>(
      python,
      'noop_replace.py',
      [name],
    );
    expect(out.same).toBe(out.before);
    expect(Number(out.changed)).toBe(rvBefore + 1);
    expect(out.changedLabel).toBe('changed');
    expect(sim.cluster.store.resourceVersion).toBe(rvBefore + 1);
  });

  it('ListOptions: 422 for bad combinations, 400 for resourceVersion with continue, 504 for a future version', async () => {
    const { workspace, nodes } = await setUp({ resourceVersionWaitMs: 200 });
    const out = await workspace.run<Record<string, Outcome>>(python, 'list_options.py', [nodes[0] as string]);
    for (const key of ['matchWithoutVersion', 'unknownMatch', 'exactZero', 'sendInitialEventsOnList']) {
      expect(out[key], key).toMatchObject({ status: 422, reason: 'Invalid' });
      expect(out[key]?.message, key).toMatch(/^ListOptions\.meta\.k8s\.io "" is invalid: /);
    }
    expect(out['continueWithVersion']).toEqual({
      status: 400,
      reason: 'BadRequest',
      message: 'specifying resource version is not allowed when using continue',
    });
    expect(out['futureGet']).toMatchObject({ status: 504, reason: 'Timeout' });
    expect(out['futureGet']?.message).toMatch(/^Too large resource version: \d+, current: \d+$/);
  });

  it('reads a PodDisruptionBudget status filled in by the disruption controller', async () => {
    const { sim, workspace, nodes } = await setUp({ kubelet: { startupMs: 20 } });
    await guardedApp(sim, 'guarded', nodes[4] as string);
    await waitFor(
      () => sim.cluster.store.get('PodDisruptionBudget', 'default/guarded')?.status?.['currentHealthy'] === 3,
      { what: 'budget status counted' },
    );
    const out = await workspace.run<Record<string, unknown>>(python, 'pdb_status.py', ['default', 'guarded']);
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
    }>(python, 'node_lifecycle.py', [name]);
    expect(out.taints).toEqual(['node.kubernetes.io/unschedulable:NoSchedule']);
    expect(out.lease).toEqual({ holder: name, duration: 40, renewed: true });
    expect(out.events).toEqual([{ reason: 'NodeNotSchedulable', source: 'kubelet' }]);
  });

  it('access reviews: can-i is allowed, the rules list everything, the user is kube-sim-admin', async () => {
    const { workspace } = await setUp({ autoRun: false });
    const out = await workspace.run<Record<string, unknown>>(python, 'auth_reviews.py');
    expect(out).toEqual({
      allowed: true,
      resource: 'nodes',
      rules: [{ verbs: ['*'], resources: ['*'] }],
      user: { username: 'kube-sim-admin', groups: ['system:masters', 'system:authenticated'] },
    });
  });

  it('OpenAPI v3: the index, the Node schema, and fieldValidation=Strict refusing an unknown field', async () => {
    const { workspace } = await setUp({ autoRun: false });
    const out = await workspace.run<Record<string, unknown>>(python, 'openapi.py');
    expect(out).toEqual({
      groupVersions: [
        'api/v1',
        'apis/apps/v1',
        'apis/batch/v1',
        'apis/coordination.k8s.io/v1',
        'apis/policy/v1',
      ],
      nodeKind: [{ group: '', version: 'v1', kind: 'Node' }],
      nodeFields: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
      refused: { status: 400, message: 'strict decoding error: unknown field "metadata.labelz"' },
    });
  });

  it('server-side apply of a node: a conflict with the label manager names the field; force takes it over', async () => {
    const { workspace, nodes } = await setUp({ autoRun: false });
    const out = await workspace.run<Record<string, unknown>>(python, 'server_side_apply.py', [
      nodes[2] as string,
    ]);
    expect(out).toEqual({
      conflict: {
        status: 409,
        causes: [
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "py-label" using v1',
            field: '.metadata.labels.env',
          },
        ],
      },
      env: 'staging',
      managers: [['py-apply', 'Apply']],
    });
  });

  it('metrics.k8s.io through CustomObjectsApi: node metrics by selector, one node, a namespace’s pod metrics, a 404', async () => {
    const { sim, workspace, nodes } = await setUp({ autoRun: false });
    const name = nodes[4] as string;
    const out = await workspace.run<Record<string, unknown>>(python, 'metrics.py', [name]);
    const usage = sim.truth().usage?.nodes[name];
    expect(out).toMatchObject({
      kind: 'NodeMetricsList',
      workers: nodes.filter((n) => !n.includes('control-plane')),
      one: { name, window: '15s' },
      podNamespaces: ['kube-system'],
      missing: { status: 404 },
    });
    expect(out['podContainers']).toBeGreaterThan(0);
    const served = (out['one'] as { usage: { memory: string } }).usage;
    expect(quantityToBaseUnits('memory', served.memory)).toBe(usage?.memory);
  });
});
