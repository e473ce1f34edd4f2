import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { IncidentsResponseSchema } from '@knm/contracts';
import { waitFor } from '@knm/testing';
import { launchBrowser, type Browser } from './support/browser.js';
import { startStack, type Stack } from './support/stack.js';

const CLUSTER = 'hist';
const POOL = 'e2e-pool';
let stack: Stack;
let browser: Browser;
let viewer: string;
let node: string;
const pages: Page[] = [];

beforeAll(async () => {
  stack = await startStack(CLUSTER, { nodes: 6, pods: 30, seed: 19, jobRunMs: [600_000, 900_000] });
  browser = await launchBrowser();
  viewer = await stack.token({ sub: 'e2e-viewer', role: 'viewer' });
  // A node without taints, so that nothing but the test's changes writes its history.
  node = [...stack.sim.cluster.store.kind('Node').values()]
    .map((n) => n as { metadata: { name: string }; spec?: { taints?: unknown[] } })
    .filter((n) => (n.spec?.taints ?? []).length === 0)
    .map((n) => n.metadata.name)
    .sort()[0] as string;
  // Its incidents count in this pool (the pool is read from the node's labels when one opens).
  await patchNode({ metadata: { labels: { 'node.kubernetes.io/pool': POOL } } });
}, 180_000);

afterEach(async () => {
  for (const p of pages.splice(0)) await p.close().catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** A call of kube-sim's API server, as a kubelet or kubectl makes it. */
async function api(method: string, path: string, body: unknown, type: string): Promise<void> {
  const res = await fetch(`${stack.sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.sim.token}`, 'content-type': type },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
}

function patchNode(patch: unknown): Promise<void> {
  return api('PATCH', `/api/v1/nodes/${node}`, patch, 'application/merge-patch+json');
}

/** Sets the Ready condition as a kubelet does (status subresource, merged by type). */
function setReady(status: 'True' | 'False', reason: string, message: string): Promise<void> {
  const condition = { type: 'Ready', status, reason, message, lastTransitionTime: new Date().toISOString() };
  return api(
    'PATCH',
    `/api/v1/nodes/${node}/status`,
    { status: { conditions: [condition] } },
    'application/strategic-merge-patch+json',
  );
}

async function incidentsOfNode(): Promise<{ end?: string | undefined }[]> {
  const res = await fetch(`${stack.url}/api/v1/incidents?cluster=${CLUSTER}`, {
    headers: { authorization: `Bearer ${viewer}` },
  });
  expect(res.status).toBe(200);
  return IncidentsResponseSchema.parse(await res.json()).items.filter((i) => i.node === node);
}

async function open(): Promise<Page> {
  const page = await browser.newPage(1500, 900);
  pages.push(page);
  await page.goto(`${stack.url}/#token=${viewer}`);
  await page.locator('[data-testid=connection-badge][data-state=live]').waitFor({ timeout: 30_000 });
  await page.locator(`.row[data-node="${node}"]`).waitFor({ timeout: 15_000 });
  return page;
}

/** The drawer's timeline lines, newest first. */
function timeline(page: Page): Promise<string[]> {
  return page.locator('[data-testid=node-history] .timeline .entry').allTextContents();
}

describe('node history and incidents in the dashboard (kube-sim -> watcher -> Redis -> gateway -> Chromium)', () => {
  it('an incident shows open with a ticking duration, then closed with its MTTR bar; the drawer shows the timeline', async () => {
    const page = await open();
    await page.locator('[data-testid=incidents-tab]').click();
    const view = page.locator('[data-testid=incidents-view]');
    await expect.poll(() => view.textContent(), { timeout: 15_000 }).toContain('No incident in this period.');

    await setReady('False', 'KubeletNotReady', 'container runtime is down');
    await waitFor(async () => (await incidentsOfNode()).length === 1, { what: 'the incident to open' });
    // The view reads again every 10 s: the open incident comes first, its duration ticking.
    const row = view.locator('tbody tr').first();
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 15_000 }).toBe('open');
    expect(await row.locator('td').first().textContent()).toContain(node);
    const duration = row.locator('[data-col=duration]');
    const first = await duration.textContent();
    await expect.poll(() => duration.textContent(), { timeout: 5_000 }).not.toBe(first);

    await setReady('True', 'KubeletReady', 'kubelet is posting ready status');
    await waitFor(async () => (await incidentsOfNode())[0]?.end !== undefined, {
      what: 'the incident to close',
    });
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 15_000 }).toBe('closed');
    expect(await row.textContent()).toMatch(/closed: recovered/);
    expect(await row.textContent()).toContain('Ready=False (KubeletNotReady)');
    expect(await duration.textContent()).toMatch(/^\s*\d+s\s*$/);
    const bar = view.locator(`[data-testid=mttr-chart] li[data-pool="${POOL}"]`);
    await expect.poll(() => bar.count(), { timeout: 15_000 }).toBe(1);
    expect(await bar.getAttribute('aria-label')).toMatch(new RegExp(`^${POOL}: MTTR \\d+s over 1 incident$`));
    expect(await view.locator('[data-testid=mttr-summary]').textContent()).toMatch(
      /MTTR \d+s over 1 incident/,
    );
    // docs/incidents.png is a copy of this one.
    await browser.screenshot(page, 'incidents');

    // The node's name opens its drawer; a cordon with a reason reaches its timeline live.
    await row.locator('button', { hasText: node }).click();
    const drawer = page.locator('[data-testid=node-drawer]');
    await expect
      .poll(() => timeline(page), { timeout: 15_000 })
      .toEqual([
        'Ready False → True (KubeletReady: kubelet is posting ready status)',
        'Ready True → False (KubeletNotReady: container runtime is down)',
      ]);
    await patchNode({
      spec: { unschedulable: true },
      metadata: { annotations: { 'knm.io/cordoned-by': 'alice', 'knm.io/cordon-reason': 'maintenance' } },
    });
    await expect
      .poll(() => timeline(page), { timeout: 15_000 })
      .toEqual([
        'Cordoned by alice: maintenance',
        'Ready False → True (KubeletReady: kubelet is posting ready status)',
        'Ready True → False (KubeletNotReady: container runtime is down)',
      ]);
    const times = drawer.locator('[data-testid=node-history] .timeline time');
    expect(await times.first().textContent()).toMatch(/^\d+s ago$/);
    expect(await times.first().getAttribute('title')).toBeTruthy();
    await browser.screenshot(page, 'incidents-drawer-history');

    // Reopened from the node table, it reads the timeline again.
    await drawer.locator('button.close').click();
    await page.locator('[data-testid=nodes-tab]').click();
    await page.locator(`.row[data-node="${node}"]`).click();
    await expect.poll(() => timeline(page), { timeout: 15_000 }).toHaveLength(3);
  });
});
