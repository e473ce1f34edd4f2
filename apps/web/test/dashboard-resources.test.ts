import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  NodeListResponseSchema,
  NodePodsListSchema,
  NodeResponseSchema,
  resourcePercent,
  type NodeView,
} from '@knm/contracts';
import { waitFor } from '@knm/testing';
import { launchBrowser, type Browser } from './support/browser.js';
import { startStack, type Stack } from './support/stack.js';

/** The little of the DOM the page callbacks use (this file compiles with Node types, not the DOM lib). */
interface PageElement {
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): PageElement | null;
}
interface PageGlobals {
  document: { querySelectorAll(selector: string): Iterable<PageElement> };
}

const CLUSTER = 'res';
let stack: Stack;
let browser: Browser;
let viewer: string;
const pages: Page[] = [];

beforeAll(async () => {
  // Long jobs: allocation stays put unless a test changes it.
  stack = await startStack(CLUSTER, { nodes: 30, pods: 450, seed: 5, jobRunMs: [600_000, 900_000] });
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

async function open(height = 1400): Promise<Page> {
  const page = await browser.newPage(1600, height);
  pages.push(page);
  await page.goto(`${stack.url}/#token=${viewer}`);
  await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 30_000 });
  await expect
    .poll(() => page.locator('[data-testid=node-count]').textContent(), { timeout: 15_000 })
    .toBe('30 of 30 nodes');
  return page;
}

async function rest(path: string): Promise<unknown> {
  const res = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${viewer}` } });
  expect(res.status, path).toBe(200);
  return res.json();
}

async function restNodes(query = ''): Promise<NodeView[]> {
  return NodeListResponseSchema.parse(await rest(`/api/v1/clusters/${CLUSTER}/nodes${query}`)).items;
}

/** Each rendered row's name and its CPU bar's percent requested, in table order. */
function cpuBars(page: Page): Promise<{ name: string; cpu: string }[]> {
  return page.evaluate(() =>
    [...(globalThis as unknown as PageGlobals).document.querySelectorAll('.spacer .row')].map((r) => ({
      name: r.dataset['node'] ?? '',
      cpu: r.querySelector('[data-col=cpu]')?.dataset['requestsPercent'] ?? '',
    })),
  );
}

/** Each rendered row's name and its CPU bar's usage percent, in table order. */
function usageBars(page: Page): Promise<{ name: string; usage: string }[]> {
  return page.evaluate(() =>
    [...(globalThis as unknown as PageGlobals).document.querySelectorAll('.spacer .row')].map((r) => ({
      name: r.dataset['node'] ?? '',
      usage: r.querySelector('[data-col=cpu]')?.dataset['usagePercent'] ?? '',
    })),
  );
}

const cpuPercent = (n: NodeView): string => String(resourcePercent(n.resources['cpu'], 'requests') ?? '');

describe('node resources in the dashboard (kube-sim -> watcher -> Redis -> gateway -> Chromium)', () => {
  it('renders a CPU, memory and pods bar per row, equal to what REST answers', async () => {
    const page = await open();
    await waitFor(
      async () => {
        const shown = await cpuBars(page);
        const want = (await restNodes()).map((n) => ({ name: n.name, cpu: cpuPercent(n) }));
        return JSON.stringify(shown) === JSON.stringify(want);
      },
      { what: "the rows' CPU bars to equal REST's cpu requests percent", timeout: 20_000, interval: 200 },
    );
    const first = page.locator('.spacer .row').first();
    for (const col of ['pods', 'cpu', 'memory']) {
      expect(await first.locator(`[data-col=${col}] .bar`).count(), col).toBe(1);
    }
    expect(await first.locator('[data-col=cpu]').getAttribute('title')).toMatch(
      /^CPU: .* allocatable\nrequests .*\nlimits .*\nusage /,
    );
    expect(await page.locator('[data-testid=resource-overview]').textContent()).toMatch(/CPU.*requested/);
    // The watcher polls kube-sim's metrics.k8s.io: usage marks follow the poll REST answers with.
    await expect
      .poll(() => page.locator('[data-testid=usage-status]').textContent(), { timeout: 30_000 })
      .toMatch(/^usage polled /);
    await waitFor(
      async () => {
        const shown = await usageBars(page);
        const want = (await restNodes()).map((n) => ({
          name: n.name,
          usage: String(resourcePercent(n.resources['cpu'], 'usage') ?? ''),
        }));
        return want.some((w) => w.usage !== '') && JSON.stringify(shown) === JSON.stringify(want);
      },
      { what: "the rows' usage marks to equal REST's cpu usage percent", timeout: 20_000, interval: 200 },
    );
    expect(await first.locator('[data-col=cpu] .mark.usage').count()).toBe(1);
    await browser.screenshot(page, 'resources-table');
  });

  it('sorts by CPU requested, both ways, as the REST sort does', async () => {
    const page = await open();
    const header = page.locator('[role=columnheader] button', { hasText: 'CPU' });
    // The table breaks ties by name ascending either way, REST by name in the sort's direction:
    // compare the percents in order, and each node's percent.
    const check = async (sort: string) => {
      const want = await restNodes(`?sort=${sort}`);
      await expect.poll(async () => (await cpuBars(page)).map((r) => r.cpu)).toEqual(want.map(cpuPercent));
      const byNode = new Map(want.map((n) => [n.name, cpuPercent(n)]));
      for (const row of await cpuBars(page)) expect(row.cpu, row.name).toBe(byNode.get(row.name));
    };
    await header.click();
    await expect.poll(() => header.locator('..').getAttribute('aria-sort')).toBe('ascending');
    await check('cpu.requestsPercent');
    await header.click();
    await expect.poll(() => header.locator('..').getAttribute('aria-sort')).toBe('descending');
    await check('-cpu.requestsPercent');
    const percents = (await cpuBars(page)).map((r) => Number(r.cpu));
    expect(percents).toEqual([...percents].sort((a, b) => b - a));
    expect(percents[0]).toBeGreaterThan(percents.at(-1) as number);
  });

  it('a pod created on a node through the API server moves its CPU bar live', async () => {
    const page = await open();
    const [quiet] = await restNodes('?sort=cpu.requestsPercent&limit=1');
    const node = (quiet as NodeView).name;
    const bar = page.locator(`.row[data-node="${node}"] [data-col=cpu]`);
    await bar.waitFor();
    const before = Number(await bar.getAttribute('data-requests-percent'));
    const manifest = join(tmpdir(), `knm-e2e-pod-${process.pid}.json`);
    await writeFile(
      manifest,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'knm-e2e-hungry', namespace: 'default' },
        spec: {
          nodeName: node,
          containers: [
            { name: 'app', image: 'nginx', resources: { requests: { cpu: '500m', memory: '1Gi' } } },
          ],
        },
      }),
    );
    await stack.kubectl('create', '-f', manifest);
    const created = Date.now();
    await expect
      .poll(async () => Number(await bar.getAttribute('data-requests-percent')), {
        timeout: 10_000,
        interval: 20,
      })
      .toBeGreaterThan(before);
    console.log(`kubectl create pod -> CPU bar moved in the browser: ${Date.now() - created} ms`);
    const after = NodeResponseSchema.parse(await rest(`/api/v1/clusters/${CLUSTER}/nodes/${node}`)).node;
    await expect
      .poll(async () => Number(await bar.getAttribute('data-requests-percent')))
      .toBe(resourcePercent(after.resources['cpu'], 'requests'));
    await browser.screenshot(page, 'resources-pod-created');
  });

  it("the drawer lists the pods behind the node's numbers", async () => {
    const page = await open();
    const [busiest] = await restNodes('?sort=-pods&limit=1');
    const node = (busiest as NodeView).name;
    await page.locator(`.row[data-node="${node}"]`).click();
    const drawer = page.locator('[data-testid=node-drawer]');
    const listed = NodePodsListSchema.parse(await rest(`/api/v1/clusters/${CLUSTER}/nodes/${node}/pods`));
    expect(listed.items.length).toBeGreaterThan(0);
    await expect
      .poll(() => drawer.locator('[data-testid=node-pods] tbody tr').count(), { timeout: 15_000 })
      .toBe(listed.items.length);
    for (const pod of listed.items.slice(0, 5)) {
      const row = drawer.locator(`[data-pod="${pod.namespace}/${pod.name}"]`);
      expect(await row.count(), pod.name).toBe(1);
      expect(await row.locator('td').nth(1).textContent()).toBe(pod.phase);
    }
    await browser.screenshot(page, 'resources-drawer-pods');
  });
});
