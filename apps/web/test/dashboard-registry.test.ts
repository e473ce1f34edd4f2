/**
 * Adding and removing a cluster from the dashboard, in Chromium against the real
 * stack (kube-sim, watcher, Redis, gateway): a wrong token shows the authentication
 * reason, a working kubeconfig shows every check passed and the cluster appears in the
 * switcher, ready within 10 s (a watcher pool member serves it), and Remove (confirmed)
 * takes it away. Viewers do not see the controls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type Browser } from './support/browser.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
let browser: Browser;
const pages: Page[] = [];

beforeAll(async () => {
  stack = await startStack('dev', { nodes: 4, pods: 20, seed: 3 }, { pool: true });
  browser = await launchBrowser();
}, 180_000);

afterEach(async () => {
  for (const p of pages.splice(0)) await p.close().catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function open(token: string): Promise<Page> {
  const page = await browser.newPage(1366, 900);
  pages.push(page);
  await page.goto(`${stack.url}/#token=${token}`);
  await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 30_000 });
  return page;
}

/** kube-sim's kubeconfig with `token` as its credential. */
function kubeconfigWith(token: string): string {
  const kc = JSON.parse(stack.sim.kubeconfig()) as { users: { user: Record<string, unknown> }[] };
  kc.users[0]!.user['token'] = token;
  return JSON.stringify(kc, null, 2);
}

describe('cluster registry in the dashboard', () => {
  it('shows why a wrong kubeconfig fails, adds a working one to the switcher, and removes it', async () => {
    const page = await open(await stack.token({ sub: 'e2e-admin', role: 'admin' }));
    await page.getByTestId('add-cluster').click();
    const dialog = page.getByTestId('add-cluster-dialog');
    await dialog.getByLabel('Name').fill('second');
    await dialog.getByLabel('Kubeconfig').fill(kubeconfigWith('not-the-token'));
    await expect.poll(() => dialog.getByLabel('Context').inputValue()).toBe('kube-sim');
    await dialog.getByTestId('test-connection').click();
    const verdict = dialog.getByTestId('connection-verdict');
    await expect
      .poll(() => verdict.textContent(), { timeout: 15_000 })
      .toMatch(/^authentication: .*401 Unauthorized/);
    expect(await dialog.locator('[data-check=authenticate]').textContent()).toContain('✗');
    await browser.screenshot(page, 'add-cluster-failed');

    await dialog.getByLabel('Kubeconfig').fill(kubeconfigWith(stack.sim.token));
    await dialog.getByTestId('test-connection').click();
    await expect.poll(() => verdict.textContent(), { timeout: 15_000 }).toContain('Connection works');
    expect(await dialog.locator('[data-check="pods/eviction/create"]').textContent()).toContain('✓');
    const added = performance.now();
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();
    await dialog.waitFor({ state: 'detached', timeout: 15_000 });
    // The watcher pool starts it: listed and ready within 10 s of Add (the bound).
    await page
      .locator('[data-cluster=second] .cluster-status', { hasText: 'ready' })
      .waitFor({ timeout: 10_000 });
    expect(performance.now() - added).toBeLessThan(10_000);
    // Its nodes are on the page: the pool's watcher wrote them (kube-sim's 4 nodes).
    await expect
      .poll(() => page.locator('[data-cluster=second] .totals').textContent(), { timeout: 10_000 })
      .toMatch(/^4 nodes/);

    // The switcher selected it; it was registered here, so it can be removed here.
    await page.getByTestId('remove-cluster').click();
    const confirm = page.getByTestId('remove-cluster-dialog');
    await confirm.getByRole('button', { name: 'Remove second' }).click();
    await page.locator('[data-cluster=second]').waitFor({ state: 'detached', timeout: 30_000 });
    expect(await stack.redis.client.hget(stack.redis.keyspace.connections, 'second')).toBeNull();
  });

  it('shows no registry control to a viewer', async () => {
    const page = await open(await stack.token({ role: 'viewer' }));
    await page.locator('[data-cluster=dev]').waitFor();
    expect(await page.getByTestId('add-cluster').count()).toBe(0);
  });
});
