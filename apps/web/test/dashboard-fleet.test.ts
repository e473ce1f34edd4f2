import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type Browser } from './support/browser.js';
import { seedCluster, snapshot } from './support/seed-cluster.js';
import { startStack, type Stack } from './support/stack.js';

/** The little of the DOM the page callbacks use (this file compiles with Node types, not the DOM lib). */
interface PageElement {
  dataset: Record<string, string | undefined>;
}
interface PageGlobals {
  document: { querySelectorAll(selector: string): Iterable<PageElement> };
}

const CLUSTER = 'dev';
/** More than a page (100 rows) with dev's nodes: the view pages. */
const EDGE_NODES = 105;
let stack: Stack;
let browser: Browser;
let viewer: string;
const pages: Page[] = [];

beforeAll(async () => {
  stack = await startStack(CLUSTER, { nodes: 12, pods: 120, seed: 3, jobRunMs: [600_000, 900_000] });
  const names = Array.from({ length: EDGE_NODES }, (_, i) => `edge-${String(i).padStart(3, '0')}`);
  const writer = await seedCluster(
    stack.redis,
    'edge',
    names.map((n) => snapshot(n)),
    { 'edge-000': 50 },
  );
  await writer.setStatus('degraded', 'API server unreachable (e2e)');
  browser = await launchBrowser();
  viewer = await stack.token({ sub: 'e2e-viewer', role: 'viewer' });
}, 180_000);

afterEach(async () => {
  for (const p of pages.splice(0)) await p.close().catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** The fleet view's totals line, its white space collapsed. */
async function totalsLine(page: Page): Promise<string> {
  return ((await page.locator('[data-testid=fleet-totals]').textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** The `cluster/node` of each row of the fleet table, in order. */
function fleetRows(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...(globalThis as unknown as PageGlobals).document.querySelectorAll('.fleet-table tbody tr')].map(
      (r) => r.dataset['row'] ?? '',
    ),
  );
}

describe('dashboard "All clusters" view (fleet list over REST)', () => {
  it('lists the nodes of every cluster with a cluster column, sorts and pages through the gateway', async () => {
    const page = await browser.newPage(1366, 900);
    pages.push(page);
    await page.goto(`${stack.url}/#token=${viewer}`);
    await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.locator('[data-cluster=dev]').textContent(), { timeout: 15_000 })
      .toMatch(/dev\s*ready\s*12 nodes/);
    await page.locator('[data-testid=all-clusters]').click();

    const total = 12 + EDGE_NODES;
    await expect
      .poll(() => totalsLine(page), { timeout: 15_000 })
      .toMatch(new RegExp(`${total} nodes in 2 clusters · showing 1–100`));
    expect(await page.locator('[data-testid=all-clusters]').getAttribute('aria-current')).toBe('true');
    expect(await page.locator('[data-testid=fleet-cluster-note]').textContent()).toContain(
      'edge is degraded',
    );
    // By name (code-point order, as the gateway sorts), each row with its cluster.
    const first = await fleetRows(page);
    expect(first).toHaveLength(100);
    const byName = (rows: string[]) => rows.map((r) => r.split('/')[1] ?? '');
    expect(byName(first)).toEqual([...byName(first)].sort());

    await page.locator('[data-testid=fleet-next]').click();
    await expect.poll(() => totalsLine(page)).toMatch(new RegExp(`showing 101–${total}`));
    const second = await fleetRows(page);
    expect(new Set([...first, ...second]).size).toBe(total);
    expect(new Set([...first, ...second].map((r) => r.split('/')[0]))).toEqual(new Set(['dev', 'edge']));

    // Sorted by pods descending (a second click flips the direction): edge-000's 50 pods first.
    await page.locator('.fleet-table th button', { hasText: 'Pods' }).click();
    await page.locator('.fleet-table th button', { hasText: 'Pods' }).click();
    await expect.poll(async () => (await fleetRows(page))[0]).toBe('edge/edge-000');
    expect(await page.locator('.fleet-table th[aria-sort=descending]').textContent()).toContain('Pods');

    // Choosing a cluster leaves the view for that cluster's live table.
    await page.locator('[data-cluster=dev]').click();
    await expect.poll(() => page.locator('[data-testid=node-count]').textContent()).toBe('12 of 12 nodes');
    expect(await page.locator('[data-testid=fleet-view]').count()).toBe(0);
  });
});
