import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { FaultsResponseSchema, startKubeSim, type KubeSim } from '../src/index.js';
import { api, openWatch, StatusSchema, type OpenWatch } from './support/sim-client.js';

const sims: KubeSim[] = [];
const watches: OpenWatch[] = [];
afterEach(async () => {
  for (const w of watches.splice(0)) w.close();
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function sim(extra: Partial<Parameters<typeof startKubeSim>[0]> = {}): Promise<KubeSim> {
  const s = await startKubeSim({ nodes: 5, pods: 20, seed: 2, autoRun: false, ...extra });
  sims.push(s);
  return s;
}

const faults = (s: KubeSim, body: unknown) => api(s, '/_sim/faults', { method: 'POST', body });

async function watchNodes(s: KubeSim, extra = ''): Promise<OpenWatch> {
  const w = await openWatch(
    s,
    `/api/v1/nodes?watch=true&resourceVersion=${s.cluster.store.resourceVersion}${extra}`,
  );
  watches.push(w);
  return w;
}

function touch(s: KubeSim, value: string) {
  const node = s.cluster.store.kind('Node').sorted()[0]?.metadata.name as string;
  return api(s, `/api/v1/nodes/${node}`, {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: { metadata: { labels: { touched: value } } },
  });
}

describe('faults', () => {
  it('errorRate answers that fraction of API requests with 500 or 429 (with Retry-After) until cleared', async () => {
    const s = await sim();
    const set = await faults(s, { errorRate: { fraction: 1, status: 500 } });
    expect(FaultsResponseSchema.parse(set.body).errorRate).toMatchObject({ fraction: 1, status: 500 });
    const failed = await api(s, '/api/v1/nodes');
    expect(failed.status).toBe(500);
    expect(StatusSchema.parse(failed.body)).toMatchObject({ reason: 'InternalError', code: 500 });
    expect((await api(s, '/_sim/truth')).status).toBe(200);
    expect((await api(s, '/healthz')).status).toBe(200);

    await faults(s, { errorRate: { fraction: 1, status: 429 } });
    const limited = await api(s, '/api/v1/nodes');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(StatusSchema.parse(limited.body)).toMatchObject({
      reason: 'TooManyRequests',
      details: { retryAfterSeconds: 1 },
    });

    await faults(s, { errorRate: { fraction: 0.5, status: 500 } });
    const codes = await Promise.all(
      Array.from({ length: 200 }, async () => (await api(s, '/api/v1/namespaces')).status),
    );
    const errors = codes.filter((c) => c === 500).length;
    expect(errors).toBeGreaterThan(40);
    expect(errors).toBeLessThan(160);
    expect(codes.every((c) => c === 200 || c === 500)).toBe(true);

    await faults(s, { clear: true });
    expect((await api(s, '/api/v1/nodes')).status).toBe(200);
  });

  it('errorRate with seconds stops by itself', async () => {
    const s = await sim();
    await faults(s, { errorRate: { fraction: 1, status: 500, seconds: 0.3 } });
    expect((await api(s, '/api/v1/nodes')).status).toBe(500);
    await waitFor(async () => (await api(s, '/api/v1/nodes')).status === 200, {
      timeout: 10_000,
      what: 'errors to stop',
    });
  });

  it('latencyMs delays every API request', async () => {
    const s = await sim();
    await faults(s, { latencyMs: 300 });
    const started = Date.now();
    expect((await api(s, '/api/v1/nodes')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await faults(s, { latencyMs: 0 });
  });

  it('downForSeconds refuses connections, then listens again on the same port', async () => {
    const s = await sim();
    const w = await watchNodes(s);
    const res = await faults(s, { downForSeconds: 1 });
    expect(FaultsResponseSchema.parse(res.body).downUntil).toBeGreaterThan(Date.now());
    await waitFor(
      async () => {
        try {
          await fetch(`${s.url}/healthz`);
          return false;
        } catch (err) {
          return String((err as { cause?: { code?: string } }).cause?.code) === 'ECONNREFUSED';
        }
      },
      { timeout: 5_000, what: 'connection refused' },
    );
    expect(await w.ended).toBe(false); // the watch was cut, not ended cleanly
    await waitFor(async () => (await api(s, '/api/v1/nodes')).status === 200, {
      timeout: 15_000,
      what: 'back up',
    });
    expect(new URL(s.url).port).toBe(String(s.port));
  });

  it('dropWatches ends open watches cleanly; resetWatches cuts them', async () => {
    const s = await sim();
    const a = await watchNodes(s);
    const b = await watchNodes(s);
    await waitFor(() => s.hub.size === 2, { what: 'two open watches' });
    const res = await faults(s, { dropWatches: true });
    expect(FaultsResponseSchema.parse(res.body).droppedWatches).toBe(2);
    expect(await a.ended).toBe(true);
    expect(await b.ended).toBe(true);
    const c = await watchNodes(s);
    await waitFor(() => s.hub.size === 1, { what: 'one open watch' });
    await faults(s, { resetWatches: true });
    expect(await c.ended).toBe(false);
  });

  it('stallWatches keeps watches open but silent (no events, no bookmarks); un-stalling ends them', async () => {
    const s = await sim({ bookmarkIntervalMs: 50 });
    const w = await watchNodes(s, '&allowWatchBookmarks=true');
    await waitFor(() => w.events.some((e) => e.type === 'BOOKMARK'), { what: 'a bookmark before the stall' });
    await faults(s, { stallWatches: true });
    const seen = w.events.length;
    const late = await watchNodes(s, '&allowWatchBookmarks=true');
    await touch(s, 'during-stall');
    await new Promise((r) => setTimeout(r, 300)); // six bookmark intervals
    expect(w.events).toHaveLength(seen);
    expect(late.events).toHaveLength(0);
    expect(s.hub.size).toBe(2);
    await faults(s, { stallWatches: false });
    expect(await w.ended).toBe(true);
    expect(await late.ended).toBe(true);
  });

  it('rejects a bad faults body with 400', async () => {
    const s = await sim();
    for (const body of [
      { errorRate: { fraction: 2, status: 500 } },
      { errorRate: { fraction: 0.1, status: 404 } },
      { bogus: true },
    ]) {
      const res = await faults(s, body);
      expect(res.status).toBe(400);
      expect(StatusSchema.parse(res.body)).toMatchObject({ reason: 'BadRequest', code: 400 });
    }
  });
});
