import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { projectNode, type KubeNodeLike, type NodeSnapshot } from '@knm/contracts';
import { startKubeSim, type KubeSim } from '@knm/fake-cluster';
import { waitFor } from '@knm/testing';
import { ApiError } from '../src/errors/api-error.js';
import { ApiUnreachableError } from '../src/errors/api-unreachable-error.js';
import { KubeConfigError } from '../src/errors/kube-config-error.js';
import { HttpListerWatcher } from '../src/http/http-lister-watcher.js';
import { KubeHttpClient } from '../src/http/kube-http-client.js';
import type { WatchEvent } from '../src/lister-watcher.js';
import { PodCountIndex } from '../src/pod-count-index.js';
import { projectPod, type PodRecord } from '../src/pod-record.js';
import { podScan } from '../src/pod-scan.js';
import { Reflector } from '../src/reflector.js';

let sim: KubeSim | undefined;
const aborts: AbortController[] = [];
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await Promise.all(stops.splice(0).map((s) => s()));
  await sim?.close();
  sim = undefined;
});

function kubeConfigOf(s: KubeSim, patch?: (config: Record<string, unknown>) => void): KubeConfig {
  const kc = new KubeConfig();
  const config = JSON.parse(s.kubeconfig()) as Record<string, unknown>;
  patch?.(config);
  kc.loadFromString(JSON.stringify(config));
  return kc;
}

const nodesOf = (client: KubeHttpClient) =>
  new HttpListerWatcher<NodeSnapshot>(client, {
    resource: 'nodes',
    path: '/api/v1/nodes',
    project: (raw) => projectNode(raw as KubeNodeLike),
  });

describe('HttpListerWatcher against kube-sim (HTTPS, bearer token from the kubeconfig)', () => {
  it('lists page by page; the projected nodes equal the truth', async () => {
    sim = await startKubeSim({ nodes: 17, pods: 50, seed: 2 });
    const lw = nodesOf(new KubeHttpClient(kubeConfigOf(sim)));
    const abort = new AbortController();
    const got: NodeSnapshot[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await lw.list(cont ? { limit: 5, continue: cont } : { limit: 5 }, abort.signal);
      got.push(...page.items);
      cont = page.continue;
      pages += 1;
    } while (cont);
    expect(pages).toBe(4);
    expect(Object.fromEntries(got.map((n) => [n.name, n]))).toEqual(sim.truth().nodes);
  });

  it.each([
    ['parsed', false],
    ['scanned (podScan)', true],
  ])('a reflector over pods %s counts exactly what the truth counts', async (_how, scan) => {
    sim = await startKubeSim({ nodes: 10, pods: 300, seed: 3 });
    const lw = new HttpListerWatcher<PodRecord>(new KubeHttpClient(kubeConfigOf(sim)), {
      resource: 'pods',
      path: '/api/v1/pods',
      project: projectPod,
      ...(scan ? { scan: podScan() } : {}),
    });
    const index = new PodCountIndex();
    const reflector = new Reflector(
      lw,
      {
        replace: async (items) => index.replace(items),
        apply: async (e) => index.apply(e.type, e.object),
      },
      { pageSize: 100 },
    );
    stops.push(() => reflector.stop());
    sim.cluster.pause();
    reflector.start();
    await reflector.waitForSync();
    expect(index.counts()).toEqual(sim.truth().podCounts);
    sim.cluster.resume();
    sim.churn.setRate(100);
    await new Promise((r) => setTimeout(r, 1_500));
    sim.churn.setRate(0);
    sim.cluster.pause();
    await waitFor(() => reflector.lastSyncResourceVersion === sim?.truth().resourceVersion, {
      what: 'the reflector to catch up',
    });
    expect(index.counts()).toEqual(sim.truth().podCounts);
  });

  it('watches: a label patch arrives as MODIFIED with the new labels', async () => {
    sim = await startKubeSim({ nodes: 3, pods: 10, seed: 4 });
    const lw = nodesOf(new KubeHttpClient(kubeConfigOf(sim)));
    const abort = new AbortController();
    aborts.push(abort);
    const stream = await lw.watch(
      { resourceVersion: sim.truth().resourceVersion, timeoutSeconds: 30, allowBookmarks: true },
      abort.signal,
    );
    const name = Object.keys(sim.truth().nodes)[0] as string;
    const res = await fetch(`${sim.url}/api/v1/nodes/${name}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { labels: { team: 'a' } } }),
    });
    expect(res.status).toBe(200);
    for await (const [e] of stream) {
      expect(e?.type).toBe('MODIFIED');
      if (e?.type === 'MODIFIED') {
        expect(e.object.name).toBe(name);
        expect(e.object.labels['team']).toBe('a');
        expect(e.resourceVersion).toBe(e.object.resourceVersion);
      }
      break;
    }
  });

  it('a watch from a compacted resourceVersion yields a 410 ERROR event', async () => {
    sim = await startKubeSim({ nodes: 3, pods: 10, seed: 5 });
    const lw = nodesOf(new KubeHttpClient(kubeConfigOf(sim)));
    const old = sim.truth().resourceVersion;
    const name = Object.keys(sim.truth().nodes)[0] as string;
    await fetch(`${sim.url}/api/v1/nodes/${name}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { labels: { x: 'y' } } }),
    });
    await fetch(`${sim.url}/_sim/faults`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ compact: true }),
    });
    const abort = new AbortController();
    aborts.push(abort);
    const events: WatchEvent<NodeSnapshot>[] = [];
    for await (const e of await lw.watch(
      { resourceVersion: old, timeoutSeconds: 30, allowBookmarks: true },
      abort.signal,
    )) {
      events.push(...e);
    }
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'ERROR', code: 410 });
  });

  it('maps failures to typed errors: 401 -> ApiError, nothing listening -> ApiUnreachableError', async () => {
    sim = await startKubeSim({ nodes: 1, pods: 1, seed: 6 });
    const badToken = kubeConfigOf(sim, (c) => {
      (c['users'] as { user: { token: string } }[])[0]!.user.token = 'wrong';
    });
    const abort = new AbortController();
    const err = await nodesOf(new KubeHttpClient(badToken))
      .list({ limit: 1 }, abort.signal)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    const url = sim.httpsUrl as string;
    await sim.close();
    const gone = await nodesOf(new KubeHttpClient(kubeConfigOf(sim)))
      .list({ limit: 1 }, abort.signal)
      .catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ApiUnreachableError);
    expect(url).toMatch(/^https:/);
  });

  it('refuses a kubeconfig without a cluster', () => {
    expect(() => new KubeHttpClient(new KubeConfig())).toThrow(KubeConfigError);
  });
});
