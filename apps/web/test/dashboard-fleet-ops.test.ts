import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestClient } from '@knm/client';
import { OperationListResponseSchema, decode, type OperationListResponse } from '@knm/contracts';
import { launchBrowser, type Browser } from './support/browser.js';
import { startExtraCluster, type ExtraCluster } from './support/extra-cluster.js';
import { startStack, type Stack } from './support/stack.js';

/** The little of the DOM the page callbacks use (this file compiles with Node types, not the DOM lib). */
interface PageElement {
  dataset: Record<string, string | undefined>;
}
interface PageGlobals {
  document: { querySelectorAll(selector: string): Iterable<PageElement> };
}

const NODES = 6;
let stack: Stack;
let edge: ExtraCluster;
let browser: Browser;
let operator: string;

beforeAll(async () => {
  // Two real clusters (kube-sim + watcher each), so each cluster's operation really runs.
  stack = await startStack('dev', { nodes: NODES, pods: 30, seed: 3, jobRunMs: [600_000, 900_000] });
  edge = await startExtraCluster(stack.redis, 'edge', {
    nodes: NODES,
    pods: 30,
    seed: 8,
    jobRunMs: [600_000, 900_000],
  });
  browser = await launchBrowser();
  operator = await stack.token({ sub: 'e2e-operator', role: 'operator' });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await edge?.close();
  await stack?.close();
});

async function operationsOf(cluster: string): Promise<OperationListResponse> {
  const response = await fetch(`${stack.url}/api/v1/clusters/${cluster}/operations`, {
    headers: { authorization: `Bearer ${operator}` },
  });
  expect(response.status).toBe(200);
  return decode(OperationListResponseSchema, await response.json(), 'operations list');
}

describe('dashboard "All clusters" view: operations across clusters', () => {
  it('cordons nodes of two clusters as one fleet operation: one operation per cluster, one entry', async () => {
    const page = await browser.newPage(1366, 900);
    try {
      await page.goto(`${stack.url}/#token=${operator}`);
      await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 30_000 });
      // The cluster list is read every 5 s: wait for edge's watcher to show up in it.
      await page.locator('[data-testid=all-clusters]').waitFor({ timeout: 30_000 });
      await page.locator('[data-testid=all-clusters]').click();
      await expect
        .poll(
          async () =>
            ((await page.locator('[data-testid=fleet-totals]').textContent()) ?? '').replace(/\s+/g, ' '),
          { timeout: 30_000 },
        )
        .toContain(`${2 * NODES} nodes in 2 clusters`);

      const rows = await page.evaluate(() =>
        [...(globalThis as unknown as PageGlobals).document.querySelectorAll('.fleet-table tbody tr')].map(
          (r) => r.dataset['row'] ?? '',
        ),
      );
      const inCluster = (c: string): string[] =>
        rows.filter((r) => r.startsWith(`${c}/`)).map((r) => r.slice(c.length + 1));
      const picked = { dev: inCluster('dev').slice(0, 2), edge: inCluster('edge').slice(0, 1) };
      expect(picked.dev).toHaveLength(2);
      expect(picked.edge).toHaveLength(1);
      for (const [cluster, nodes] of Object.entries(picked)) {
        for (const node of nodes) {
          await page.locator(`.fleet-table tr[data-row="${cluster}/${node}"] input[type=checkbox]`).check();
        }
      }
      await expect.poll(() => page.locator('.actions .selection').textContent()).toBe('3 selected');

      await page.locator('[data-op=cordon]').click();
      const dialog = page.locator('[data-testid=operation-dialog]');
      await dialog.waitFor();
      expect(((await dialog.locator('[data-testid=op-clusters]').textContent()) ?? '').replace(/\s+/g, ' ')).toContain(
        'dev (2), edge (1)',
      );
      await page.locator('#op-reason').fill('e2e fleet maintenance');
      await dialog.getByRole('button', { name: 'Preview changes' }).click();
      const preview = dialog.locator('[data-testid=dry-run]');
      await preview.waitFor({ timeout: 10_000 });
      expect(await preview.textContent()).toMatch(/3 of 3 nodes would change/);
      await browser.screenshot(page, 'fleet-operation-preview');
      await dialog.getByRole('button', { name: /^Confirm/ }).click();

      const entry = page.locator('[data-testid=fleet-operation]');
      await page
        .locator('[data-testid=fleet-operation][data-state=succeeded]')
        .waitFor({ timeout: 30_000 })
        .catch(async (err: unknown) => {
          const panel = await page
            .locator('.operations')
            .textContent()
            .catch(() => '(no operations panel)');
          throw new Error(`${(err as Error).message}\noperations panel: ${panel}`);
        });
      expect(await entry.count()).toBe(1);
      expect(((await entry.locator('[data-testid=fleet-operation-counts]').textContent()) ?? '').trim()).toBe(
        '2 succeeded · 0 failed',
      );
      // Its clusters' operations are inside the entry, not listed alone.
      expect(await page.locator('[data-testid=operation]').count()).toBe(0);
      await entry.locator('summary').click();
      expect(
        await entry.locator('[data-testid=fleet-operation-cluster][data-state=completed]').count(),
      ).toBe(2);
      await browser.screenshot(page, 'fleet-operation-done');

      // One operation per cluster, each on that cluster's selected nodes.
      for (const [cluster, nodes] of Object.entries(picked)) {
        const { items } = await operationsOf(cluster);
        expect(items.map((op) => [op.action, [...op.nodes].sort(), op.state])).toEqual([
          ['cordon', [...nodes].sort(), 'completed'],
        ]);
      }
      // And the nodes are unschedulable in both clusters, as the gateway reads them.
      const rest = new RestClient({ urls: [stack.url], token: operator });
      for (const [cluster, nodes] of Object.entries(picked)) {
        for (const node of nodes) {
          await expect
            .poll(async () => (await rest.getNode(cluster, node)).node.unschedulable, { timeout: 10_000 })
            .toBe(true);
        }
      }
    } finally {
      await page.close().catch(() => undefined);
    }
  });
});
