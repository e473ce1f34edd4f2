/**
 * Operations as the person, seen in the dashboard (real Chromium): a knm operator
 * signed in through a real OpenID Provider cordons two nodes of a cluster whose
 * watcher process impersonates operators (`KNM_OPS_IMPERSONATE=true`), and kube-sim's
 * RBAC (created through its API) does not let that person patch nodes: the operation
 * fails, and the operations panel shows each node with the API server's 403 message.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from '@knm/fake-cluster';
import {
  createTestRedis,
  freePort,
  grantClusterRole,
  spawnTestGateway,
  spawnTestWatcher,
  startOidcProvider,
  type ManagedProcess,
  type TestOidcProvider,
  type TestRedis,
} from '@knm/testing';
import { launchBrowser, type Browser } from './support/browser.js';

let dir: string;
let redis: TestRedis;
let sim: KubeSim;
let watcher: ManagedProcess;
let provider: TestOidcProvider;
let gateway: ManagedProcess;
let browser: Browser;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'knm-web-impersonation-'));
  redis = await createTestRedis();
  const kubeconfigPath = join(dir, 'sim.kubeconfig');
  sim = await startKubeSim({ nodes: 6, pods: 20, seed: 4, kubeconfigOut: kubeconfigPath });
  // Everyone may read nodes; nobody is bound to patch them.
  await grantClusterRole(sim, {
    role: 'node-reader',
    rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],
    binding: 'everyone-reads-nodes',
    groups: ['system:authenticated'],
  });
  watcher = spawnTestWatcher({
    cluster: 'dev',
    kubeconfigPath,
    redis,
    env: { KNM_OPS_IMPERSONATE: 'true' },
  });
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({
    redirectUris: [`${url}/api/v1/auth/callback`],
    people: [{ id: 'ana', email: 'ana@example.com', groups: ['team-a'] }],
  });
  gateway = spawnTestGateway({
    redis,
    jwtSecret: 'web-impersonation-secret-0123456789-abcdefgh',
    port,
    env: {
      KNM_CORS_ORIGINS: url,
      KNM_OIDC_ISSUER: provider.issuer,
      KNM_OIDC_CLIENT_ID: provider.clientId,
      KNM_OIDC_CLIENT_SECRET: provider.clientSecret,
      KNM_OIDC_SCOPES: 'openid email groups offline_access',
      KNM_OIDC_USERNAME_CLAIM: 'email',
      KNM_OIDC_ROLE_MAP: 'team-a=operator:dev',
    },
  });
  await Promise.all([
    watcher.waitForOutput(/"msg":"operations worker ready"/, 60_000),
    gateway.waitForOutput(/gateway listening/, 60_000),
  ]);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop('SIGTERM', 10_000);
  await watcher?.stop('SIGTERM', 10_000);
  await provider?.close();
  await sim?.close();
  await redis?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('operations as the person in the dashboard', () => {
  it('shows each node refused by the cluster’s RBAC with the API server’s 403', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.locator('[data-testid=sso-sign-in]').click();
    await page.getByLabel('Username').fill('ana');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${url}/`);
    await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 30_000 });
    const nodes = Object.keys(sim.truth().nodes)
      .filter((n) => n.includes('-worker-'))
      .sort()
      .slice(0, 2);
    for (const node of nodes) await page.locator(`.row[data-node="${node}"] input[type=checkbox]`).check();
    await page.locator('[data-op=cordon]').click();
    const dialog = page.locator('[data-testid=operation-dialog]');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Preview changes' }).click();
    await dialog.locator('[data-testid=dry-run]').waitFor({ timeout: 10_000 });
    await dialog.getByRole('button', { name: /^Confirm/ }).click();
    const failed = page.locator('[data-testid=operation][data-state=failed]');
    await failed.waitFor({ timeout: 30_000 });
    const lines = await failed.locator('.error li').allTextContents();
    expect(lines).toEqual(
      nodes.map(
        (node) =>
          `${node}: PATCH /api/v1/nodes/${node}: HTTP 403: nodes "${node}" is forbidden: User "ana@example.com" cannot patch resource "nodes" in API group "" at the cluster scope`,
      ),
    );
    for (const node of nodes) expect(sim.truth().nodes[node]?.unschedulable).toBe(false);
    await browser.screenshot(page, 'oidc-impersonation-refused');
    await page.close();
  });
});
