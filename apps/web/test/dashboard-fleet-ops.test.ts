import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { RestClient } from '@knm/client';
import {
  CreateOperationResponseSchema,
  OperationListResponseSchema,
  decode,
  type CreateOperationRequestInput,
  type Operation,
  type OperationListResponse,
} from '@knm/contracts';
import { blockEvictions, type KubeSim } from '@knm/fake-cluster';
import { waitFor } from '@knm/testing';
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
const pages: Page[] = [];

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

afterEach(async () => {
  for (const p of pages.splice(0)) await p.close().catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await edge?.close();
  await stack?.close();
});

async function api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${operator}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Starts an operation over REST (not through the page). */
async function createOperation(cluster: string, request: CreateOperationRequestInput): Promise<Operation> {
  const response = await api('POST', `/api/v1/clusters/${cluster}/operations`, request);
  expect(response.status).toBe(202);
  return decode(CreateOperationResponseSchema, await response.json(), 'created operation').operation;
}

/** Puts pods on `node` that a disruption budget keeps a drain from evicting, so the drain stays running. */
async function guardNode(sim: KubeSim, node: string): Promise<void> {
  const guarded = blockEvictions(sim, node);
  await waitFor(
    () => guarded.every((k) => sim.cluster.store.get('Pod', k)?.status?.['phase'] === 'Running'),
    {
      timeout: 20_000,
      what: 'guarded pods running',
    },
  );
}

/** Opens the All-clusters view as the operator, every node of both clusters listed. */
async function openFleet(): Promise<Page> {
  const page = await browser.newPage(1366, 900);
  pages.push(page);
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
  return page;
}

/** Selects `cluster/node` rows, opens the `kind` dialog, previews and confirms. */
async function runFromFleet(page: Page, kind: string, keys: readonly string[]): Promise<void> {
  for (const key of keys)
    await page.locator(`.fleet-table tr[data-row="${key}"] input[type=checkbox]`).check();
  await expect.poll(() => page.locator('.actions .selection').textContent()).toBe(`${keys.length} selected`);
  await page.locator(`[data-op=${kind}]`).click();
  const dialog = page.locator('[data-testid=operation-dialog]');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Preview changes' }).click();
  await dialog.locator('[data-testid=dry-run]').waitFor({ timeout: 10_000 });
  await dialog.getByRole('button', { name: /^Confirm/ }).click();
}

/** Waits for the fleet entry to reach `state`; on a timeout the error carries the panel's text. */
async function fleetEntryState(page: Page, state: string): Promise<void> {
  await page
    .locator(`[data-testid=fleet-operation][data-state=${state}]`)
    .waitFor({ timeout: 30_000 })
    .catch(async (err: unknown) => {
      const panel = await page
        .locator('.operations')
        .textContent()
        .catch(() => '(no operations panel)');
      throw new Error(`${(err as Error).message}\noperations panel: ${panel}`);
    });
}

async function operationsOf(cluster: string): Promise<OperationListResponse> {
  const response = await api('GET', `/api/v1/clusters/${cluster}/operations`);
  expect(response.status).toBe(200);
  return decode(OperationListResponseSchema, await response.json(), 'operations list');
}

describe('dashboard "All clusters" view: operations across clusters', () => {
  it('cordons nodes of two clusters as one fleet operation: one operation per cluster, one entry', async () => {
    const page = await openFleet();
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
    expect(
      ((await dialog.locator('[data-testid=op-clusters]').textContent()) ?? '').replace(/\s+/g, ' '),
    ).toContain('dev (2), edge (1)');
    await page.locator('#op-reason').fill('e2e fleet maintenance');
    await dialog.getByRole('button', { name: 'Preview changes' }).click();
    const preview = dialog.locator('[data-testid=dry-run]');
    await preview.waitFor({ timeout: 10_000 });
    expect(await preview.textContent()).toMatch(/3 of 3 nodes would change/);
    await browser.screenshot(page, 'fleet-operation-preview');
    await dialog.getByRole('button', { name: /^Confirm/ }).click();

    const entry = page.locator('[data-testid=fleet-operation]');
    await fleetEntryState(page, 'succeeded');
    expect(await entry.count()).toBe(1);
    expect(((await entry.locator('[data-testid=fleet-operation-counts]').textContent()) ?? '').trim()).toBe(
      '2 succeeded · 0 failed',
    );
    // Its clusters' operations are inside the entry, not listed alone.
    expect(await page.locator('[data-testid=operation]').count()).toBe(0);
    await entry.locator('summary').click();
    expect(await entry.locator('[data-testid=fleet-operation-cluster][data-state=completed]').count()).toBe(
      2,
    );
    await browser.screenshot(page, 'fleet-operation-done');
    // The view reads its page again as soon as the fleet operation finished (not at its next 5 s read).
    for (const [cluster, nodes] of Object.entries(picked)) {
      for (const node of nodes) {
        await expect
          .poll(() => page.locator(`.fleet-table tr[data-row="${cluster}/${node}"]`).textContent(), {
            timeout: 4_000,
          })
          .toContain('cordoned');
      }
    }

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
  });

  it('a cluster that refuses (409: its node is busy) is named with the reason; the other cluster still runs', async () => {
    await guardNode(edge.sim, 'kube-sim-worker-0002');
    const held = await createOperation('edge', {
      action: 'drain',
      nodes: ['kube-sim-worker-0002'],
      params: {},
    });
    try {
      const page = await openFleet();
      await runFromFleet(page, 'cordon', ['dev/kube-sim-worker-0001', 'edge/kube-sim-worker-0002']);
      await fleetEntryState(page, 'partial');
      const entry = page.locator('[data-testid=fleet-operation]');
      expect(((await entry.locator('[data-testid=fleet-operation-counts]').textContent()) ?? '').trim()).toBe(
        '1 succeeded · 1 failed',
      );
      const problem = (await entry.locator('[data-testid=fleet-operation-problem]').textContent()) ?? '';
      expect(problem).toMatch(/^\s*edge: 409: /);
      expect(problem).toContain(held.id);
      await entry.locator('summary').click();
      expect(
        await entry
          .locator('[data-testid=fleet-operation-cluster][data-cluster=edge]')
          .getAttribute('data-state'),
      ).toBe('refused');
      await browser.screenshot(page, 'fleet-operation-refused');
      // dev ran its cordon; edge has only the drain holding its node.
      const dev = (await operationsOf('dev')).items.find((op) => op.nodes.includes('kube-sim-worker-0001'));
      expect(dev).toMatchObject({ action: 'cordon', state: 'completed' });
      expect((await operationsOf('edge')).items.filter((op) => op.action === 'cordon')).toHaveLength(1);
    } finally {
      await api('POST', `/api/v1/operations/${held.id}/cancel`);
    }
  });

  it('Cancel all cancels every cluster operation still running', async () => {
    await guardNode(stack.sim, 'kube-sim-worker-0003');
    const page = await openFleet();
    await runFromFleet(page, 'drain', ['dev/kube-sim-worker-0003', 'edge/kube-sim-worker-0004']);
    const entry = page.locator('[data-testid=fleet-operation]');
    await expect
      .poll(async () => entry.locator('[data-testid=fleet-operation-counts]').textContent(), {
        timeout: 30_000,
      })
      .toMatch(/1 succeeded · 0 failed · 1 running/);
    await waitFor(() => stack.sim.server.stats().evictionsRejected > 0, {
      timeout: 30_000,
      what: 'the budget refusing an eviction in dev',
    });
    await entry.locator('[data-testid=cancel-fleet-operation]').click();
    await fleetEntryState(page, 'cancelled');
    expect(((await entry.locator('[data-testid=fleet-operation-counts]').textContent()) ?? '').trim()).toBe(
      '1 succeeded · 0 failed · 1 cancelled',
    );
    const drains = (await operationsOf('dev')).items.filter(
      (op) => op.action === 'drain' && op.nodes.includes('kube-sim-worker-0003'),
    );
    expect(drains.map((op) => [op.state, op.cancelledBy])).toEqual([['cancelled', 'e2e-operator']]);
  });
});
