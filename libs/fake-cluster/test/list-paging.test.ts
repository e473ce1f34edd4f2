import { afterEach, describe, expect, it } from 'vitest';
import { startKubeSim, type KubeSim } from '../src/index.js';
import { api, list, StatusSchema, type KubeList } from './support/sim-client.js';

const sims: KubeSim[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function sim(
  nodes: number,
  pods: number,
  extra: Partial<Parameters<typeof startKubeSim>[0]> = {},
): Promise<KubeSim> {
  const s = await startKubeSim({ nodes, pods, seed: 7, autoRun: false, ...extra });
  sims.push(s);
  return s;
}

/** Pages through `path` with `limit`, calling `between` after each page. */
async function pageAll(
  s: KubeSim,
  path: string,
  limit: number,
  between: (page: number) => Promise<void> = async () => undefined,
) {
  const pages: KubeList[] = [];
  let token: string | undefined;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await list(
      s,
      `${path}${sep}limit=${limit}${token ? `&continue=${encodeURIComponent(token)}` : ''}`,
    );
    pages.push(page);
    token = page.metadata.continue;
    await between(pages.length);
  } while (token);
  return pages;
}

describe('list paging', () => {
  it("serves every page at the first page's resourceVersion while objects change, without gaps or duplicates", async () => {
    const s = await sim(10, 300);
    const before = await list(s, '/api/v1/pods');
    const expected = before.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    const victims = before.items.slice(100, 110);
    const pages = await pageAll(s, '/api/v1/pods', 40, async (n) => {
      if (n !== 1) return;
      // Change the cluster after the first page: delete, relabel, create.
      for (const v of victims.slice(0, 5)) {
        await api(
          s,
          `/api/v1/namespaces/${v.metadata.namespace}/pods/${v.metadata.name}?gracePeriodSeconds=0`,
          { method: 'DELETE' },
        );
      }
      for (const v of victims.slice(5)) {
        await api(s, `/api/v1/namespaces/${v.metadata.namespace}/pods/${v.metadata.name}`, {
          method: 'PATCH',
          contentType: 'application/merge-patch+json',
          body: { metadata: { labels: { paged: 'yes' } } },
        });
      }
      const created = await api(s, '/api/v1/namespaces/default/pods', {
        method: 'POST',
        body: { metadata: { name: 'aaa-new' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      });
      expect(created.status).toBe(201);
    });
    expect(pages.length).toBe(Math.ceil(300 / 40));
    const rv = before.metadata.resourceVersion;
    expect(pages.every((p) => p.metadata.resourceVersion === rv)).toBe(true);
    const names = pages.flatMap((p) => p.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`));
    expect(names).toEqual(expected);
    expect(pages.flatMap((p) => p.items).some((i) => i.metadata.labels?.['paged'] === 'yes')).toBe(false);
    expect(pages.at(-1)?.metadata.continue).toBeUndefined();
    expect(pages.map((p) => p.metadata.remainingItemCount)).toEqual([
      ...pages.slice(0, -1).map((_, i) => 300 - 40 * (i + 1)),
      undefined,
    ]);
    // A new list sees the changes.
    const after = await list(s, '/api/v1/pods');
    expect(after.items).toHaveLength(300 - 5 + 1);
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(rv));
  });

  it('keeps a continue token good until the change log is compacted past it, then answers 410 with an inconsistent continuation', async () => {
    // continueTtlMs 0: the snapshot cache forgets at once, so later pages are rebuilt from the change log.
    const s = await sim(5, 100, { continueTtlMs: 0 });
    const first = await list(s, '/api/v1/pods?limit=10');
    expect(first.metadata.continue).toBeDefined();
    const later = (await list(s, '/api/v1/pods')).items[50] as KubeList['items'][number];
    await api(s, `/api/v1/namespaces/${later.metadata.namespace}/pods/${later.metadata.name}`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { touched: 'yes' } } },
    });
    const second = await list(
      s,
      `/api/v1/pods?limit=30&continue=${encodeURIComponent(first.metadata.continue as string)}`,
    );
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(second.items).toHaveLength(30);

    const faults = await api(s, '/_sim/faults', { method: 'POST', body: { compact: true } });
    expect(faults.status).toBe(200);
    const res = await api<{ metadata: { continue?: string } }>(
      s,
      `/api/v1/pods?limit=30&continue=${encodeURIComponent(second.metadata.continue as string)}`,
    );
    expect(res.status).toBe(410);
    const status = StatusSchema.parse(res.body);
    expect(status).toMatchObject({ status: 'Failure', reason: 'Expired', code: 410 });
    expect(status.message).toMatch(
      /^The provided continue parameter is too old to display a consistent list result/,
    );
    // The offered continuation goes on after the same key, at the latest version (so it sees the change).
    const inconsistent = res.body.metadata.continue as string;
    const rest = await list(s, `/api/v1/pods?limit=500&continue=${encodeURIComponent(inconsistent)}`);
    expect(rest.metadata.resourceVersion).toBe(String(s.cluster.store.resourceVersion));
    expect(rest.metadata.continue).toBeUndefined();
    expect(rest.items).toHaveLength(100 - 40);
    const touched = rest.items.find((p) => p.metadata.name === later.metadata.name);
    expect(touched?.metadata.labels?.['touched']).toBe('yes');
  });

  it("accepts a continue token with other selectors (each page applies the request's), and refuses one with a resourceVersion", async () => {
    const s = await sim(6, 0);
    const first = await list(s, '/api/v1/nodes?limit=2');
    const token = encodeURIComponent(first.metadata.continue as string);
    const all = await list(s, '/api/v1/nodes');
    const workers = all.items.slice(2).filter((n) => n.metadata.name.includes('-worker-'));
    expect(workers.length).toBeGreaterThan(0);
    const rest = await list(
      s,
      `/api/v1/nodes?limit=10&continue=${token}&labelSelector=!node-role.kubernetes.io/control-plane`,
    );
    expect(rest.items.map((n) => n.metadata.name)).toEqual(workers.map((n) => n.metadata.name));
    // "0" is tolerated with a token (kept for compatibility upstream); any other version is a 400.
    expect((await api(s, `/api/v1/nodes?limit=10&continue=${token}&resourceVersion=0`)).status).toBe(200);
    const refused = await api(
      s,
      `/api/v1/nodes?limit=10&continue=${token}&resourceVersion=${first.metadata.resourceVersion}`,
    );
    expect(refused.status).toBe(400);
    expect(StatusSchema.parse(refused.body).message).toBe(
      'specifying resource version is not allowed when using continue',
    );
  });

  it('rejects a malformed continue token with 400', async () => {
    const s = await sim(3, 10);
    const res = await api(s, '/api/v1/pods?limit=5&continue=%%%');
    expect(res.status).toBe(400);
    expect(StatusSchema.parse(res.body)).toMatchObject({ reason: 'BadRequest', code: 400 });
  });

  it('follows the resourceVersion semantics: unset = latest, "0" = any (limit ignored), exact, too old, too new', async () => {
    const s = await sim(8, 20, { resourceVersionWaitMs: 100 });
    const start = await list(s, '/api/v1/nodes');
    const rv0 = start.metadata.resourceVersion;
    const node = start.items[3]?.metadata.name as string;
    await api(s, `/api/v1/nodes/${node}`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { phase: 'two' } } },
    });
    const latest = await list(s, '/api/v1/nodes');
    expect(Number(latest.metadata.resourceVersion)).toBe(Number(rv0) + 1);
    expect(latest.items.find((n) => n.metadata.name === node)?.metadata.labels?.['phase']).toBe('two');

    const any = await list(s, '/api/v1/nodes?resourceVersion=0&limit=2');
    expect(any.items).toHaveLength(8);
    expect(any.metadata.continue).toBeUndefined();

    // limit + a specific version = Exact: the past state, from the change log.
    const exact = await list(s, `/api/v1/nodes?resourceVersion=${rv0}&limit=100`);
    expect(exact.metadata.resourceVersion).toBe(rv0);
    expect(exact.items.find((n) => n.metadata.name === node)?.metadata.labels).not.toHaveProperty('phase');
    const explicit = await list(s, `/api/v1/nodes?resourceVersion=${rv0}&resourceVersionMatch=Exact`);
    expect(explicit.metadata.resourceVersion).toBe(rv0);
    expect(explicit.items.find((n) => n.metadata.name === node)?.metadata.labels).not.toHaveProperty('phase');
    // NotOlderThan (no limit): the latest state.
    const notOlder = await list(s, `/api/v1/nodes?resourceVersion=${rv0}`);
    expect(notOlder.metadata.resourceVersion).toBe(latest.metadata.resourceVersion);

    await api(s, '/_sim/faults', { method: 'POST', body: { compact: true } });
    const tooOld = await api(s, `/api/v1/nodes?resourceVersion=${rv0}&limit=100`);
    expect(tooOld.status).toBe(410);
    expect(StatusSchema.parse(tooOld.body)).toMatchObject({ reason: 'Expired', code: 410 });
    expect(StatusSchema.parse(tooOld.body).message).toMatch(/^too old resource version: \d+ \(\d+\)$/);

    const tooNew = await api(
      s,
      `/api/v1/nodes?resourceVersion=${Number(latest.metadata.resourceVersion) + 1000}`,
    );
    expect(tooNew.status).toBe(504);
    expect(StatusSchema.parse(tooNew.body).message).toMatch(/^Too large resource version/);
  });

  it('sends list items without kind and apiVersion (the list says what they are), single objects with them', async () => {
    const s = await sim(3, 6);
    for (const path of ['/api/v1/nodes', '/api/v1/pods?limit=2', '/api/v1/nodes?resourceVersion=0']) {
      const res = await api<{ kind: string; apiVersion: string; items: Record<string, unknown>[] }>(s, path);
      expect(res.body.kind).toMatch(/List$/);
      expect(res.body.apiVersion).toBe('v1');
      expect(res.body.items.length).toBeGreaterThan(0);
      for (const item of res.body.items) {
        expect(item).not.toHaveProperty('kind');
        expect(item).not.toHaveProperty('apiVersion');
        expect(item).toHaveProperty('metadata.name');
      }
    }
    const name = s.cluster.store.kind('Node').sorted()[0]?.metadata.name as string;
    const one = await api<Record<string, unknown>>(s, `/api/v1/nodes/${name}`);
    expect(one.body).toMatchObject({ kind: 'Node', apiVersion: 'v1' });
  });

  it("lists one namespace's pods and pages them", async () => {
    const s = await sim(6, 200);
    const all = await list(s, '/api/v1/pods');
    const ns = all.items[50]?.metadata.namespace as string;
    const expected = all.items.filter((p) => p.metadata.namespace === ns).map((p) => p.metadata.name);
    const pages = await pageAll(s, `/api/v1/namespaces/${ns}/pods`, 7);
    expect(pages.flatMap((p) => p.items.map((i) => i.metadata.name))).toEqual(expected);
    expect(pages.flatMap((p) => p.items).every((i) => i.metadata.namespace === ns)).toBe(true);
    const missing = await api(s, '/api/v1/namespaces/nope/pods/x');
    expect(missing.status).toBe(404);
  });

  it('pages through 60,000 pods of a 2,000-node cluster, consistent and complete', async () => {
    const started = Date.now();
    const s = await sim(2_000, 60_000);
    const startupMs = Date.now() - started;
    const t0 = Date.now();
    const pages = await pageAll(s, '/api/v1/pods', 500);
    const listMs = Date.now() - t0;
    const names = pages.flatMap((p) => p.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`));
    expect(names).toHaveLength(60_000);
    expect(new Set(names).size).toBe(60_000);
    expect(names).toEqual([...names].sort());
    expect(new Set(pages.map((p) => p.metadata.resourceVersion)).size).toBe(1);
    const nodes = await pageAll(s, '/api/v1/nodes', 500);
    expect(nodes.flatMap((p) => p.items)).toHaveLength(2_000);
    console.log(
      `2,000 nodes / 60,000 pods: startup ${startupMs} ms, full paginated pod list (120 pages) ${listMs} ms`,
    );
  }, 180_000);
});
