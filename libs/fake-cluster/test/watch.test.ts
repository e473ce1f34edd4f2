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
  const s = await startKubeSim({ nodes: 6, pods: 40, seed: 11, autoRun: false, ...extra });
  sims.push(s);
  return s;
}

async function watch(s: KubeSim, path: string, accept?: string): Promise<OpenWatch> {
  const w = await openWatch(s, path, accept);
  watches.push(w);
  return w;
}

function label(s: KubeSim, node: string, labels: Record<string, string | null>) {
  return api(s, `/api/v1/nodes/${node}`, {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: { metadata: { labels } },
  });
}

const nodeName = (s: KubeSim, i: number) => s.cluster.store.kind('Node').sorted()[i]?.metadata.name as string;

describe('watches', () => {
  it('replays exactly the changes after a resourceVersion, in order, then streams live ones', async () => {
    const s = await sim();
    const rv = (await list(s, '/api/v1/nodes')).metadata.resourceVersion;
    const n1 = nodeName(s, 1);
    const n2 = nodeName(s, 2);
    await label(s, n1, { step: '1' });
    await label(s, n2, { step: '2' });
    await api(s, `/api/v1/nodes/${n2}`, { method: 'DELETE' });
    const w = await watch(s, `/api/v1/nodes?watch=true&resourceVersion=${rv}`);
    expect(w.status).toBe(200);
    await waitFor(() => w.events.length >= 3, { what: 'replayed events' });
    expect(w.events.map((e) => [e.type, e.object.metadata.name, e.object.metadata.resourceVersion])).toEqual([
      ['MODIFIED', n1, String(Number(rv) + 1)],
      ['MODIFIED', n2, String(Number(rv) + 2)],
      ['DELETED', n2, String(Number(rv) + 3)],
    ]);
    expect(w.events[0]?.object.kind).toBe('Node');
    await label(s, n1, { step: '3' });
    await waitFor(() => w.events.length === 4, { what: 'live event' });
    expect(w.events[3]).toMatchObject({
      type: 'MODIFIED',
      object: { metadata: { name: n1, labels: { step: '3' } } },
    });
    // Pod changes do not leak into a node watch.
    expect(w.events.every((e) => e.object.kind === 'Node')).toBe(true);
  });

  it('from unset or "0" starts with synthetic ADDED events for the current state', async () => {
    const s = await sim();
    for (const path of ['/api/v1/nodes?watch=true', '/api/v1/nodes?watch=1&resourceVersion=0']) {
      const w = await watch(s, path);
      await waitFor(() => w.events.length >= 6, { what: 'initial ADDED events' });
      expect(w.events.map((e) => e.type)).toEqual(Array(6).fill('ADDED'));
      expect(w.events.map((e) => e.object.metadata.name)).toEqual(
        s.cluster.store
          .kind('Node')
          .sorted()
          .map((n) => n.metadata.name),
      );
    }
  });

  it('answers 200 with one ERROR event (410 Expired) and ends the stream when the version was compacted', async () => {
    const s = await sim();
    const rv = (await list(s, '/api/v1/nodes')).metadata.resourceVersion;
    await label(s, nodeName(s, 0), { x: 'y' });
    await api(s, '/_sim/faults', { method: 'POST', body: { compact: true } });
    const w = await watch(s, `/api/v1/nodes?watch=true&resourceVersion=${rv}`);
    expect(w.status).toBe(200);
    expect(await w.ended).toBe(true);
    expect(w.events).toHaveLength(1);
    expect(w.events[0]?.type).toBe('ERROR');
    const status = StatusSchema.parse(w.events[0]?.object);
    expect(status).toMatchObject({ status: 'Failure', reason: 'Expired', code: 410 });
    expect(status.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it('sends BOOKMARKs carrying only kind, apiVersion and the current resourceVersion', async () => {
    const s = await sim({ bookmarkIntervalMs: 50 });
    const rv = (await list(s, '/api/v1/nodes')).metadata.resourceVersion;
    const w = await watch(s, `/api/v1/nodes?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
    await waitFor(() => w.events.some((e) => e.type === 'BOOKMARK'), { what: 'a bookmark' });
    await label(s, nodeName(s, 0), { b: '1' });
    await waitFor(
      () =>
        w.events.some(
          (e) => e.type === 'BOOKMARK' && e.object.metadata.resourceVersion === String(Number(rv) + 1),
        ),
      { what: 'a bookmark after the change' },
    );
    const bookmark = w.events.find((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object).toEqual({ kind: 'Node', apiVersion: 'v1', metadata: { resourceVersion: rv } });
    // Without allowWatchBookmarks: none.
    const plain = await watch(s, `/api/v1/nodes?watch=true&resourceVersion=${rv}`);
    await label(s, nodeName(s, 1), { b: '2' });
    await waitFor(() => plain.events.length >= 2, { what: 'events on the plain watch' });
    await new Promise((r) => setTimeout(r, 200));
    expect(plain.events.filter((e) => e.type === 'BOOKMARK')).toHaveLength(0);
  });

  it('sendInitialEvents=true: ADDED for the current state, then the initial-events-end BOOKMARK, then live events', async () => {
    const s = await sim();
    const w = await watch(
      s,
      '/api/v1/nodes?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true',
    );
    await waitFor(() => w.events.length >= 7, { what: 'initial events and bookmark' });
    expect(w.events.slice(0, 6).map((e) => e.type)).toEqual(Array(6).fill('ADDED'));
    expect(w.events[6]).toEqual({
      type: 'BOOKMARK',
      object: {
        kind: 'Node',
        apiVersion: 'v1',
        metadata: {
          resourceVersion: String(s.cluster.store.resourceVersion),
          annotations: { 'k8s.io/initial-events-end': 'true' },
        },
      },
    });
    await label(s, nodeName(s, 3), { live: 'yes' });
    await waitFor(() => w.events.length >= 8, { what: 'live event' });
    expect(w.events[7]?.type).toBe('MODIFIED');

    const bad = await api(s, '/api/v1/nodes?watch=true&sendInitialEvents=true');
    expect(bad.status).toBe(422);
    expect(StatusSchema.parse(bad.body)).toMatchObject({ reason: 'Invalid', code: 422 });
  });

  it('turns selector transitions into ADDED and DELETED (labels and fields)', async () => {
    const s = await sim();
    const n = nodeName(s, 4);
    const byLabel = await watch(s, '/api/v1/nodes?watch=true&labelSelector=team%3Dblue');
    const byField = await watch(s, '/api/v1/nodes?watch=true&fieldSelector=spec.unschedulable%3Dtrue');
    await label(s, n, { team: 'blue' });
    await label(s, n, { team: 'blue', other: 'x' });
    await label(s, n, { team: 'red' });
    await api(s, `/api/v1/nodes/${n}`, {
      method: 'PATCH',
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { unschedulable: true } },
    });
    await api(s, `/api/v1/nodes/${n}`, {
      method: 'PATCH',
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { unschedulable: null } },
    });
    await waitFor(() => byLabel.events.length >= 3 && byField.events.length >= 2, {
      what: 'transition events',
    });
    expect(byLabel.events.map((e) => [e.type, e.object.metadata.labels?.['team']])).toEqual([
      ['ADDED', 'blue'],
      ['MODIFIED', 'blue'],
      ['DELETED', 'red'],
    ]);
    expect(byField.events.map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
  });

  it('closes the stream cleanly after timeoutSeconds', async () => {
    const s = await sim();
    const w = await watch(
      s,
      `/api/v1/nodes?watch=true&resourceVersion=${s.cluster.store.resourceVersion}&timeoutSeconds=1`,
    );
    const started = Date.now();
    expect(await w.ended).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(w.events).toEqual([]);
  });

  it('scopes pod watches to a namespace or the whole cluster', async () => {
    const s = await sim();
    const pods = s.cluster.store.kind('Pod').sorted();
    const ns = pods[0]?.metadata.namespace as string;
    const otherNs = pods.find((p) => p.metadata.namespace !== ns)?.metadata.namespace as string;
    const rv = s.cluster.store.resourceVersion;
    const scoped = await watch(s, `/api/v1/namespaces/${ns}/pods?watch=true&resourceVersion=${rv}`);
    const all = await watch(s, `/api/v1/pods?watch=true&resourceVersion=${rv}`);
    for (const namespace of [ns, otherNs]) {
      const res = await api(s, `/api/v1/namespaces/${namespace}/pods`, {
        method: 'POST',
        body: { metadata: { generateName: 'w-' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      });
      expect(res.status).toBe(201);
    }
    await waitFor(() => all.events.length >= 2, { what: 'cluster-wide pod events' });
    await waitFor(() => scoped.events.length >= 1, { what: 'namespaced pod event' });
    expect(all.events.map((e) => e.object.metadata.name.startsWith('w-'))).toEqual([true, true]);
    expect(scoped.events).toHaveLength(1);
    expect((scoped.events[0]?.object.metadata as { namespace?: string }).namespace).toBe(ns);
  });

  it('serves Table events when the Accept header asks for a Table (kubectl get -w)', async () => {
    const s = await sim();
    const w = await watch(
      s,
      `/api/v1/nodes?watch=true&resourceVersion=${s.cluster.store.resourceVersion}`,
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    );
    await label(s, nodeName(s, 0), { t: '1' });
    await waitFor(() => w.events.length >= 1, { what: 'table event' });
    const object = w.events[0]?.object as unknown as { kind: string; rows: { cells: unknown[] }[] };
    expect(object.kind).toBe('Table');
    expect(object.rows).toHaveLength(1);
    expect(object.rows[0]?.cells[0]).toBe(nodeName(s, 0));
  });
});
