import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@knm/auth';
import {
  createTestRedis,
  gatewayUrl,
  spawnTestGateway,
  waitFor,
  type ManagedProcess,
  type TestRedis,
} from '@knm/testing';
import { FleetStore } from '../src/fleet/fleet-store.js';
import { seedCluster, snapshot } from './support/seed-cluster.js';

const SECRET = 'web-fleet-store-secret-0123456789-abcdef';
let redis: TestRedis;
let gateway: ManagedProcess;
let url: string;
let token: string;
const alphaNodes = ['a-0', 'a-1', 'a-2', 'a-3'].map((n) => snapshot(n));
const betaNodes = ['b-0', 'b-1', 'b-2'].map((n) => snapshot(n));

beforeAll(async () => {
  redis = await createTestRedis();
  await seedCluster(redis, 'alpha', alphaNodes, { 'a-2': 9 });
  await seedCluster(redis, 'beta', betaNodes, { 'b-1': 5 });
  gateway = spawnTestGateway({ redis, jwtSecret: SECRET });
  url = await gatewayUrl(gateway);
  token = await signToken(
    { sub: 'store', role: 'viewer', clusters: '*' },
    { secret: SECRET, ttlSeconds: 600 },
  );
}, 120_000);

afterAll(async () => {
  await gateway?.stop('SIGTERM', 10_000);
  await redis?.close();
});

/** The `cluster/node` of each row of the page shown. */
const rows = (store: FleetStore) => store.page.value?.items.map((n) => `${n.cluster}/${n.name}`) ?? [];

describe('FleetStore (the "All clusters" view) against a real gateway', () => {
  it('pages forward and back with the continue tokens, sorts through the gateway, and starts again after a 410', async () => {
    // Refreshed every 200 ms: each step below waits for what the gateway answers, not for a timer.
    const store = new FleetStore({ url, token: () => token, pageSize: 3, refreshMs: 200 });
    try {
      store.open();
      await waitFor(() => rows(store).length === 3, { what: 'the first page' });
      expect(rows(store)).toEqual(['alpha/a-0', 'alpha/a-1', 'alpha/a-2']);
      expect(store.page.value?.total).toBe(7);

      store.next();
      await waitFor(() => store.pageNumber.value === 2 && rows(store)[0] === 'alpha/a-3', { what: 'page 2' });
      expect(rows(store)).toEqual(['alpha/a-3', 'beta/b-0', 'beta/b-1']);
      store.next();
      await waitFor(() => rows(store).join() === 'beta/b-2', { what: 'page 3' });
      expect(store.page.value?.continue).toBeUndefined();
      store.previous();
      await waitFor(() => rows(store)[0] === 'alpha/a-3', { what: 'page 2 again' });

      // A header click sorts by pods ascending, a second one descending, from the first page.
      store.setSort('pods');
      store.setSort('pods');
      expect(store.sort.value).toBe('-pods');
      await waitFor(() => rows(store)[0] === 'alpha/a-2', { what: 'the page sorted by pods desc' });
      expect(store.pageNumber.value).toBe(1);
      expect(rows(store)).toEqual(['alpha/a-2', 'beta/b-1', 'beta/b-2']);

      // A cluster rebuilt while paging: the next refresh of page 2 is a 410, the view goes back to page 1 and says why.
      store.next();
      await waitFor(() => store.pageNumber.value === 2 && rows(store)[0] === 'beta/b-0', {
        what: 'page 2 by pods',
      });
      await seedCluster(redis, 'alpha', alphaNodes, { 'a-2': 9 });
      await waitFor(() => store.notice.value !== undefined && store.pageNumber.value === 1, {
        what: 'the view back at page 1 after the 410',
      });
      expect(store.notice.value).toMatch(/resynced/);
      await waitFor(() => rows(store)[0] === 'alpha/a-2', { what: 'the first page read again' });
      expect(store.error.value).toBeUndefined();
    } finally {
      store.close();
    }
    expect(store.active.value).toBe(false);
  });
});
