/**
 * Operations as the person, end to end: a person signs in through a real OpenID
 * Provider (test-started `oidc-provider`) to a gateway on real Redis, operates on a
 * kube-sim cluster whose watcher process impersonates operators
 * (`KNM_OPS_IMPERSONATE=true`), and the cluster's own RBAC (ClusterRoles and bindings
 * created through kube-sim's API) decides: a person whose groups may not patch nodes
 * fails on every node with the API server's 403, one whose group may succeeds; the
 * audit says who asked and as whom the calls went.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditResponseSchema, OperationSchema, type Operation } from '@knm/contracts';
import {
  createTestRedis,
  grantClusterRole,
  waitFor,
  type ManagedProcess,
  type TestRedis,
} from '@knm/testing';
import { spawnOpsWatcher } from './support/operations-harness.js';
import { CookieBrowser, startOidcGateway, type OidcGateway } from './support/oidc-harness.js';
import { startSim, type SimHandle } from './support/sim-harness.js';

let redis: TestRedis;
let sim: SimHandle;
let watcher: ManagedProcess;
let gw: OidcGateway;

function workers(): string[] {
  return Object.keys(sim.sim.truth().nodes)
    .filter((n) => n.includes('-worker-'))
    .sort()
    .slice(0, 3);
}

/** Cordons `nodes` as the signed-in `browser` and waits for the operation's end. */
async function cordon(browser: CookieBrowser, nodes: string[]): Promise<Operation> {
  const created = await browser.fetch(`${gw.url}/api/v1/clusters/dev/operations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: gw.url },
    body: JSON.stringify({ action: 'cordon', params: {}, nodes, reason: 'kernel update' }),
  });
  expect(created.status).toBe(202);
  const { operationId } = (await created.json()) as { operationId: string };
  let op: Operation | undefined;
  await waitFor(
    async () => {
      const answer = await browser.fetch(`${gw.url}/api/v1/operations/${operationId}`);
      op = OperationSchema.parse(await answer.json());
      return ['completed', 'failed', 'partial', 'cancelled'].includes(op.state);
    },
    { timeout: 30_000, what: `operation ${operationId} to finish` },
  );
  if (!op) throw new Error('no operation');
  return op;
}

beforeEach(async () => {
  redis = await createTestRedis();
  sim = await startSim({
    nodes: 6,
    pods: 20,
    seed: 9,
    clusterName: 'dev',
    kubelet: { startupMs: 100, stopMs: 200 },
  });
  await grantClusterRole(sim.sim, {
    role: 'node-operator',
    rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'patch'] }],
    binding: 'sre-operate-nodes',
    groups: ['sre'],
  });
  await grantClusterRole(sim.sim, {
    role: 'node-reader',
    rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }],
    binding: 'everyone-reads-nodes',
    groups: ['system:authenticated'],
  });
  watcher = spawnOpsWatcher(sim, redis, 'dev', { KNM_OPS_IMPERSONATE: 'true' });
  await watcher.waitForOutput(/"msg":"watcher ready"/, 60_000);
  await watcher.waitForOutput(/"msg":"operations worker ready"/, 60_000);
  gw = await startOidcGateway(redis);
});

afterEach(async () => {
  await gw?.close();
  await watcher?.stop('SIGTERM', 10_000);
  await sim?.close();
  await redis?.close();
});

describe('operations as the person', () => {
  it('a knm operator whose groups the cluster does not allow to patch nodes fails on every node with the 403; the audit says who and as whom', async () => {
    // ana is a knm operator of dev (team-a), but the cluster's RBAC lets only sre patch nodes.
    const ana = new CookieBrowser();
    await ana.signIn(gw.url, 'ana');
    const nodes = workers();
    const op = await cordon(ana, nodes);
    expect(op.state).toBe('failed');
    expect(op.results.map((r) => [r.node, r.status])).toEqual(nodes.map((n) => [n, 'failed']));
    for (const result of op.results) {
      expect(result.error).toContain(
        `nodes "${result.node}" is forbidden: User "ana@example.com" cannot patch resource "nodes" in API group "" at the cluster scope`,
      );
    }
    for (const node of nodes) expect(sim.sim.truth().nodes[node]?.unschedulable).toBe(false);

    const sam = new CookieBrowser();
    await sam.signIn(gw.url, 'sam');
    expect((await cordon(sam, nodes)).state).toBe('completed');
    for (const node of nodes) expect(sim.sim.truth().nodes[node]?.unschedulable).toBe(true);

    // The runner sets the final state before it appends the audit record: wait for both records.
    const audit = await waitFor(
      async () => {
        const answer = AuditResponseSchema.parse(
          await (await sam.fetch(`${gw.url}/api/v1/audit?cluster=dev`)).json(),
        );
        return answer.items.length >= 2 ? answer : undefined;
      },
      { what: "both operations' audit records" },
    );
    const byUser = Object.fromEntries(audit.items.map((r) => [r.user, r]));
    expect(byUser['ana@example.com']).toMatchObject({
      state: 'failed',
      actingAs: { user: 'ana@example.com', groups: ['team-a', 'everyone'] },
      counts: { failed: 3 },
    });
    expect(byUser['ana@example.com']?.failures.every((f) => f.error.includes('is forbidden'))).toBe(true);
    expect(byUser['sam@example.com']).toMatchObject({
      state: 'completed',
      actingAs: { user: 'sam@example.com', groups: ['sre'] },
    });
  });
});
