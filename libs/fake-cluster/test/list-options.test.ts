import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { startKubeSim, type KubeSim } from '../src/index.js';
import { api, list, openWatch, StatusSchema, type OpenWatch } from './support/sim-client.js';

const sims: KubeSim[] = [];
const watches: OpenWatch[] = [];
afterEach(async () => {
  for (const w of watches.splice(0)) w.close();
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function sim(extra: Partial<Parameters<typeof startKubeSim>[0]> = {}): Promise<KubeSim> {
  const s = await startKubeSim({ nodes: 4, pods: 10, seed: 3, autoRun: false, ...extra });
  sims.push(s);
  return s;
}

async function watch(s: KubeSim, path: string): Promise<OpenWatch> {
  const w = await openWatch(s, path);
  watches.push(w);
  return w;
}

describe('boolean query parameters (any value but absent, 0 or false in any case is true)', () => {
  it.each(['True', '', 'yes', 'TRUE'])('watch=%j opens a watch', async (value) => {
    const s = await sim();
    const w = await watch(s, `/api/v1/nodes?watch=${value}`);
    expect(w.status).toBe(200);
    await waitFor(() => w.events.length === 4, { what: 'synthetic ADDED events' });
    expect(w.events.every((e) => e.type === 'ADDED')).toBe(true);
  });

  it.each(['False', 'FALSE', '0'])('watch=%j is a plain list', async (value) => {
    const s = await sim();
    const res = await list(s, `/api/v1/nodes?watch=${value}`);
    expect(res.kind).toBe('NodeList');
    expect(res.items).toHaveLength(4);
  });

  it('allowWatchBookmarks=True turns bookmarks on', async () => {
    const s = await sim({ bookmarkIntervalMs: 20 });
    const w = await watch(s, '/api/v1/nodes?watch=True&allowWatchBookmarks=True');
    await waitFor(() => w.events.some((e) => e.type === 'BOOKMARK'), { what: 'a bookmark' });
  });
});

describe('ListOptions validation: 422 Invalid ListOptions.meta.k8s.io, as the API server', () => {
  it.each([
    [
      'resourceVersionMatch without resourceVersion',
      '/api/v1/nodes?resourceVersionMatch=NotOlderThan',
      'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
    ],
    [
      'an unknown resourceVersionMatch',
      '/api/v1/nodes?resourceVersion=1&resourceVersionMatch=Newest',
      'resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""',
    ],
    [
      'Exact with resourceVersion 0',
      '/api/v1/nodes?resourceVersion=0&resourceVersionMatch=Exact',
      'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
    ],
    [
      'sendInitialEvents on a plain list',
      '/api/v1/nodes?sendInitialEvents=true',
      'sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list',
    ],
    [
      'resourceVersionMatch on a watch without sendInitialEvents',
      '/api/v1/nodes?watch=1&resourceVersion=1&resourceVersionMatch=NotOlderThan',
      'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
    ],
  ])('%s', async (_what, path, message) => {
    const s = await sim();
    const res = await api(s, path);
    expect(res.status).toBe(422);
    const status = StatusSchema.parse(res.body);
    expect(status).toMatchObject({
      reason: 'Invalid',
      code: 422,
      details: { group: 'meta.k8s.io', kind: 'ListOptions' },
    });
    expect(status.message).toBe(`ListOptions.meta.k8s.io "" is invalid: ${message}`);
  });

  it('lists every problem found as a cause', async () => {
    const s = await sim();
    const res = await api(s, '/api/v1/nodes?resourceVersionMatch=Bogus&sendInitialEvents=false');
    expect(res.status).toBe(422);
    const causes = StatusSchema.parse(res.body).details?.causes ?? [];
    expect(causes.map((c) => [c.field, c.reason])).toEqual([
      ['resourceVersionMatch', 'FieldValueForbidden'],
      ['resourceVersionMatch', 'FieldValueNotSupported'],
      ['sendInitialEvents', 'FieldValueForbidden'],
    ]);
  });
});

describe('reads at a resourceVersion the server has not reached', () => {
  it('GET of an object waits for the version, then answers 504 Too large resource version', async () => {
    const s = await sim({ resourceVersionWaitMs: 300 });
    const current = s.cluster.store.resourceVersion;
    const name = s.cluster.store.kind('Node').sorted()[0]?.metadata.name as string;
    const started = performance.now();
    const res = await api(s, `/api/v1/nodes/${name}?resourceVersion=${current + 10}`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.status).toBe(504);
    expect(StatusSchema.parse(res.body)).toMatchObject({
      reason: 'Timeout',
      message: `Too large resource version: ${current + 10}, current: ${current}`,
      details: { causes: [{ reason: 'ResourceVersionTooLarge' }], retryAfterSeconds: 1 },
    });
  });

  it('a GET or list answers as soon as the version is reached within the wait', async () => {
    const s = await sim({ resourceVersionWaitMs: 30_000 });
    const current = s.cluster.store.resourceVersion;
    const name = s.cluster.store.kind('Node').sorted()[1]?.metadata.name as string;
    const get = api<{ metadata: { labels: Record<string, string> } }>(
      s,
      `/api/v1/nodes/${name}?resourceVersion=${current + 1}`,
    );
    const listed = list(s, `/api/v1/nodes?resourceVersion=${current + 1}`);
    await api(s, `/api/v1/nodes/${name}`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { fresh: 'yes' } } },
    });
    const got = await get;
    expect(got.status).toBe(200);
    expect(got.body.metadata.labels['fresh']).toBe('yes');
    expect((await listed).metadata.resourceVersion).toBe(String(current + 1));
  });
});
