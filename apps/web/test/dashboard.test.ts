import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { blockEvictions } from '@knm/fake-cluster';
import { waitFor } from '@knm/testing';
import { launchBrowser, type Browser } from './support/browser.js';
import { seedCluster, snapshot } from './support/seed-cluster.js';
import { startStack, type Stack } from './support/stack.js';

/** The little of the DOM the page callbacks use (this file compiles with Node types, not the DOM lib). */
interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  querySelector(selector: string): PageElement | null;
  getAttribute(name: string): string | null;
}
interface PageGlobals {
  document: {
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): Iterable<PageElement>;
  };
}

const CLUSTER = 'dev';
let stack: Stack;
let browser: Browser;
let admin: string;
const pages: Page[] = [];

beforeAll(async () => {
  // Long jobs: pod counts stay put unless a test changes them.
  stack = await startStack(CLUSTER, { nodes: 40, pods: 600, seed: 7, jobRunMs: [600_000, 900_000] });
  browser = await launchBrowser();
  admin = await stack.token({ sub: 'e2e-admin', role: 'admin' });
}, 180_000);

afterEach(async () => {
  for (const p of pages.splice(0)) await p.close().catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function open(token: string, width = 1366, height = 800): Promise<Page> {
  const page = await browser.newPage(width, height);
  pages.push(page);
  await page.goto(`${stack.url}/#token=${token}`);
  await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 30_000 });
  return page;
}

function sortedNodeNames(): string[] {
  return Object.keys(stack.sim.truth().nodes).sort();
}

/** What the table shows of each rendered row. */
function renderedRows(page: Page) {
  return page.evaluate(() =>
    [...(globalThis as unknown as PageGlobals).document.querySelectorAll('.spacer .row')].map((r) => ({
      name: r.dataset['node'] ?? '',
      status: r.querySelector('[data-col=status]')?.textContent?.replace(/\s+/g, ' ').trim() ?? '',
      pods: r.querySelector('.pods .num')?.textContent?.trim() ?? '',
      labels: r.querySelector('[data-col=labels]')?.getAttribute('title') ?? '',
      taints: r.querySelector('[data-col=taints]')?.getAttribute('title') ?? '',
    })),
  );
}

/** The row the truth implies for each node. */
function truthRows() {
  const truth = stack.sim.truth();
  return Object.values(truth.nodes)
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((n) => ({
      name: n.name,
      status: `${n.ready === 'True' ? 'Ready' : n.ready === 'False' ? 'NotReady' : 'Unknown'}${n.unschedulable ? ' SchedulingDisabled' : ''}`,
      pods: `${truth.podCounts[n.name] ?? 0}/${n.capacity['pods'] ?? '?'}`,
      taints: n.taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join('\n'),
    }));
}

describe('dashboard end to end (kube-sim -> watcher -> Redis -> gateway -> Chromium)', () => {
  it('signs in from #token=, clears the fragment, and the table shows what /_sim/truth says', async () => {
    // Tall enough for all 40 rows to be rendered at once.
    const page = await open(admin, 1366, 1700);
    expect(new URL(page.url()).hash).toBe('');
    expect(await page.evaluate(() => sessionStorage.getItem('knm.token'))).toBe(admin);
    await expect
      .poll(() => page.locator('[data-testid=node-count]').textContent(), { timeout: 15_000 })
      .toBe('40 of 40 nodes');
    await expect
      .poll(() => page.locator('[data-cluster=dev]').textContent(), { timeout: 15_000 })
      .toMatch(/dev\s*ready\s*40 nodes/);
    await waitFor(
      async () => {
        const shown = (await renderedRows(page)).map(({ labels: _l, ...rest }) => rest);
        return JSON.stringify(shown) === JSON.stringify(truthRows());
      },
      { what: 'the rendered rows to equal /_sim/truth', timeout: 20_000, interval: 200 },
    ).catch(async (err: unknown) => {
      throw new Error(
        `${(err as Error).message}\nshown ${JSON.stringify((await renderedRows(page)).slice(0, 3))}\ntruth ${JSON.stringify(truthRows().slice(0, 3))}`,
      );
    });
    await browser.screenshot(page, 'table-full');
  });

  it('shows the first page of rows before the whole cluster has arrived, then every row', async () => {
    const page = await browser.newPage(1366, 1700);
    pages.push(page);
    // Holds the watch's read of the whole cluster (no limit) until released; the first page (limit) goes through.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`**/api/v1/clusters/${CLUSTER}/nodes*`, async (route) => {
      if (!new URL(route.request().url()).searchParams.has('limit')) await held;
      await route.continue();
    });
    await page.goto(`${stack.url}/#token=${admin}`);
    await page.locator('[data-testid=rows-loading]').waitFor({ timeout: 30_000 });
    const firstPage = (await renderedRows(page)).map((r) => r.name);
    expect(firstPage).toEqual(sortedNodeNames());
    expect(await page.locator('[data-testid=connection-badge]').getAttribute('data-state')).not.toBe('live');
    release();
    await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid=rows-loading]').waitFor({ state: 'detached', timeout: 30_000 });
    expect(await page.locator('[data-testid=node-count]').textContent()).toBe('40 of 40 nodes');
    expect((await renderedRows(page)).map((r) => r.name)).toEqual(sortedNodeNames());
  });

  it('a kubectl label shows up in its row, with a toast, a flash and a drawer entry', async () => {
    const page = await open(admin);
    const node = sortedNodeNames()[2] as string;
    const row = page.locator(`.row[data-node="${node}"]`);
    await row.waitFor();
    await stack.kubectl('label', 'node', node, 'knm-e2e=yes', '--overwrite');
    const labelled = Date.now();
    await page.waitForFunction(
      (name) =>
        (globalThis as unknown as PageGlobals).document
          .querySelector(`.row[data-node="${name}"] [data-col=labels]`)
          ?.getAttribute('title')
          ?.split('\n')
          .includes('knm-e2e=yes'),
      node,
      { timeout: 10_000, polling: 10 },
    );
    // Reported, not bounded: on a machine shared with other suites a wall-clock limit
    // fails for load, not for knm. The latency is measured under control by the bench
    // (`latency` scenario, bench/results).
    console.log(`kubectl label -> row updated in the browser: ${Date.now() - labelled} ms`);
    const toast = page.locator('[data-testid=toast]', { hasText: `labels updated on ${node}` });
    await toast.waitFor({ timeout: 5_000 });
    await expect.poll(() => row.getAttribute('class')).toMatch(/\bflash\b/);
    await browser.screenshot(page, 'table-live-change');

    await row.click();
    const drawer = page.locator('[data-testid=node-drawer]');
    await drawer.waitFor();
    await expect
      .poll(() => drawer.locator('[data-testid=recent-changes]').textContent())
      .toContain(`labels updated on ${node}`);
    expect(await drawer.textContent()).toContain('knm-e2e');
    await browser.screenshot(page, 'node-drawer');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
  });

  it('works from the keyboard: arrows move, Space selects, Enter opens the drawer, Escape closes it', async () => {
    const page = await open(admin);
    const third = sortedNodeNames()[2] as string;
    await page.locator('.node-table').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('.node-table').getAttribute('aria-activedescendant')).toBe(`node-row-${third}`);
    await page.keyboard.press('Space');
    await expect.poll(() => page.locator('.actions .selection').textContent()).toBe('1 selected');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-testid=node-drawer] h2').textContent()).toBe(third);
    // Focus moved into the drawer (its close button); Escape closes it and gives focus back to the table.
    await page.keyboard.press('Escape');
    await page.locator('[data-testid=node-drawer]').waitFor({ state: 'detached' });
    expect(
      await page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { className: string } | null } }).document
            .activeElement?.className,
      ),
    ).toContain('node-table');
  });

  it('filters by label selector and quick filter, and a viewer sees no operation buttons', async () => {
    const page = await open(await stack.token({ sub: 'e2e-viewer', role: 'viewer' }));
    expect(await page.locator('[role=toolbar]').count()).toBe(0);
    expect(await page.locator('.row input[type=checkbox]').count()).toBe(0);
    const node = sortedNodeNames()[4] as string;
    await page.locator('#selector-input').fill(`kubernetes.io/hostname=${node}`);
    await expect.poll(() => page.locator('[data-testid=node-count]').textContent()).toBe('1 of 40 nodes');
    await page.locator('#selector-input').fill('env in (');
    await expect.poll(() => page.locator('#selector-error').textContent()).toMatch(/unable to parse/);
    await page.locator('#selector-input').fill('');
    const tainted = Object.values(stack.sim.truth().nodes).filter((n) => n.taints.length > 0).length;
    await page.locator('[data-filter=tainted]').click();
    await expect
      .poll(() => page.locator('[data-testid=node-count]').textContent())
      .toBe(`${tainted} of 40 nodes`);
  });

  it('the cluster switcher shows each cluster with its status and totals, and switches the table', async () => {
    const writer = await seedCluster(
      stack.redis,
      'edge',
      [snapshot('edge-a'), snapshot('edge-b'), snapshot('edge-c')],
      {
        'edge-a': 4,
        'edge-b': 2,
      },
    );
    await writer.setStatus('degraded', 'API server unreachable (e2e)');
    const page = await open(admin);
    const edge = page.locator('[data-cluster=edge]');
    await expect
      .poll(() => edge.textContent(), { timeout: 15_000 })
      .toMatch(/edge\s*degraded\s*3 nodes · 6 pods/);
    await expect
      .poll(() => page.locator('[data-cluster=dev]').textContent())
      .toMatch(/dev\s*ready\s*40 nodes/);
    await edge.click();
    try {
      await expect.poll(() => page.locator('[data-testid=node-count]').textContent()).toBe('3 of 3 nodes');
      expect(await edge.getAttribute('aria-current')).toBe('true');
      expect(await page.locator('.row[data-node="edge-a"] .pods .num').textContent()).toBe('4/110');
      expect(await page.locator('[data-testid=cluster-note]').textContent()).toContain(
        'edge is degraded: its watcher cannot reach the API server',
      );
      await browser.screenshot(page, 'cluster-switcher');
    } finally {
      // The choice is remembered (localStorage): leave dev chosen for the next tests.
      await page.locator('[data-cluster=dev]').click();
    }
    await expect.poll(() => page.locator('[data-testid=node-count]').textContent()).toBe('40 of 40 nodes');
  });

  it('cordon from the UI (form, dry-run preview, confirmation, progress) makes kubectl show SchedulingDisabled', async () => {
    const page = await open(admin);
    const node = sortedNodeNames()[7] as string;
    await page.locator('#selector-input').fill(`kubernetes.io/hostname=${node}`);
    await expect.poll(() => page.locator('[data-testid=node-count]').textContent()).toBe('1 of 40 nodes');
    await page.locator(`.row[data-node="${node}"] input[type=checkbox]`).check();
    await page.locator('[data-op=cordon]').click();
    const dialog = page.locator('[data-testid=operation-dialog]');
    await dialog.waitFor();
    await page.locator('#op-reason').fill('e2e maintenance');
    await dialog.getByRole('button', { name: 'Preview changes' }).click();
    const preview = dialog.locator('[data-testid=dry-run]');
    await preview.waitFor({ timeout: 10_000 });
    expect(await preview.textContent()).toContain(node);
    await browser.screenshot(page, 'operation-preview');
    await dialog.getByRole('button', { name: /^Confirm/ }).click();
    await page
      .locator('[data-testid=operation][data-state=completed]')
      .waitFor({ timeout: 30_000 })
      .catch(async (err: unknown) => {
        const panel = await page
          .locator('.operations')
          .textContent()
          .catch(() => '(no operations panel)');
        throw new Error(`${(err as Error).message}\noperations panel: ${panel}\n${stack.watcher.tail(20)}`);
      });
    expect(await page.locator('[data-testid=operation] progress').getAttribute('value')).toBe('1');
    const kubectl = await stack.kubectl('get', 'node', node, '--no-headers');
    expect(kubectl).toMatch(/SchedulingDisabled/);
    await expect
      .poll(() => page.locator(`.row[data-node="${node}"] [data-col=status]`).textContent(), {
        timeout: 10_000,
      })
      .toContain('SchedulingDisabled');
    // Both pills fit: nothing of the status cell is cut off.
    const statusCell = page.locator(`.row[data-node="${node}"] [data-col=status]`);
    expect(await statusCell.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    await browser.screenshot(page, 'operation-done');
  });

  it('a running drain can be cancelled from the UI: the state shows live, the node is left cordoned', async () => {
    const page = await open(admin);
    const node = sortedNodeNames()[9] as string;
    const guarded = blockEvictions(stack.sim, node);
    await waitFor(
      () => guarded.every((k) => stack.sim.cluster.store.get('Pod', k)?.status?.['phase'] === 'Running'),
      {
        timeout: 20_000,
        what: 'guarded pods running',
      },
    );
    await page.locator('#selector-input').fill(`kubernetes.io/hostname=${node}`);
    await expect.poll(() => page.locator('[data-testid=node-count]').textContent()).toBe('1 of 40 nodes');
    await page.locator(`.row[data-node="${node}"] input[type=checkbox]`).check();
    await page.locator('[data-op=drain]').click();
    const dialog = page.locator('[data-testid=operation-dialog]');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Preview changes' }).click();
    await dialog.locator('[data-testid=dry-run]').waitFor({ timeout: 10_000 });
    await dialog.getByRole('button', { name: /^Confirm/ }).click();
    await page.locator('[data-testid=operation][data-state=running]').waitFor({ timeout: 30_000 });
    await waitFor(() => stack.sim.server.stats().evictionsRejected > 0, {
      timeout: 30_000,
      what: 'the budget refusing an eviction',
    });
    await page.locator('[data-testid=cancel-operation]').click();
    await page.locator('[data-testid=operation][data-state=cancelled]').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid=operation] .op-state').textContent()).toBe('cancelled');
    expect(await page.locator('[data-testid=cancel-operation]').count()).toBe(0);
    expect(await page.locator('[data-testid=operation] .error').textContent()).toMatch(
      new RegExp(`${node}: drain cancelled: node left cordoned, \\d+ pod\\(s\\) evicted, 1 not evicted`),
    );
    expect(await stack.kubectl('get', 'node', node, '--no-headers')).toMatch(/SchedulingDisabled/);
    expect(
      stack.sim.cluster.store.get('Pod', 'default/guarded-2') ??
        stack.sim.cluster.store.get('Pod', 'default/guarded-1'),
    ).toBeDefined();
    await browser.screenshot(page, 'operation-cancelled');
  });

  it('the taint form refuses an invalid key before sending, then adds the taint (kubectl sees it, the row shows it)', async () => {
    const page = await open(admin);
    const node = sortedNodeNames()[8] as string;
    await page.locator('#selector-input').fill(`kubernetes.io/hostname=${node}`);
    await expect.poll(() => page.locator('[data-testid=node-count]').textContent()).toBe('1 of 40 nodes');
    await page.locator(`.row[data-node="${node}"] input[type=checkbox]`).check();
    await page.locator('[data-op=taint]').click();
    const dialog = page.locator('[data-testid=operation-dialog]');
    await page.locator('#op-key').fill('bad key!');
    await dialog.getByRole('button', { name: 'Preview changes' }).click();
    await expect.poll(() => page.locator('#op-key-error').textContent()).toMatch(/name part must consist/);
    expect(await page.locator('#op-key').getAttribute('aria-invalid')).toBe('true');
    expect(await dialog.locator('[data-testid=dry-run]').count()).toBe(0);
    await page.locator('#op-key').fill('example.com/dedicated');
    await page.locator('#op-value').fill('ml');
    await page.locator('#op-effect').selectOption('PreferNoSchedule');
    await dialog.getByRole('button', { name: 'Preview changes' }).click();
    await dialog.locator('[data-testid=dry-run]').waitFor({ timeout: 10_000 });
    await dialog.getByRole('button', { name: /^Confirm/ }).click();
    await page.locator('[data-testid=operation][data-state=completed]').waitFor({ timeout: 30_000 });
    const taints = await stack.kubectl('get', 'node', node, '-o', 'jsonpath={.spec.taints}');
    expect(JSON.parse(taints)).toContainEqual({
      key: 'example.com/dedicated',
      value: 'ml',
      effect: 'PreferNoSchedule',
    });
    await expect
      .poll(() => page.locator(`.row[data-node="${node}"] [data-col=taints]`).getAttribute('title'), {
        timeout: 10_000,
      })
      .toBe('example.com/dedicated=ml:PreferNoSchedule');
  });

  it('the badge says offline while the browser is offline, and live again after', async () => {
    const page = await open(admin);
    await browser.context.setOffline(true);
    try {
      await page.locator('[data-testid=connection-badge][data-state=offline]').waitFor({ timeout: 10_000 });
      expect(await page.locator('[data-testid=connection-badge]').textContent()).toMatch(
        /Offline\s*last update/,
      );
    } finally {
      await browser.context.setOffline(false);
    }
    await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 30_000 });
  });

  it('the badge turns to reconnecting when the gateway goes away, and back to live with the right data', async () => {
    const page = await open(admin);
    await stack.stopGateway();
    await page
      .locator('[data-testid=connection-badge][data-state=reconnecting]')
      .waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid=connection-badge]').textContent()).toMatch(/last update \d/);
    await browser.screenshot(page, 'reconnecting');
    // A change while the gateway is away: the watcher still writes it to Redis.
    const node = sortedNodeNames()[1] as string;
    await stack.kubectl('label', 'node', node, 'knm-outage=seen', '--overwrite');
    await stack.startGateway();
    await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 60_000 });
    await page.waitForFunction(
      (name) =>
        (globalThis as unknown as PageGlobals).document
          .querySelector(`.row[data-node="${name}"] [data-col=labels]`)
          ?.getAttribute('title')
          ?.split('\n')
          .includes('knm-outage=seen'),
      node,
      { timeout: 15_000 },
    );
    expect(await page.locator('[data-testid=node-count]').textContent()).toBe('40 of 40 nodes');
  });
});
