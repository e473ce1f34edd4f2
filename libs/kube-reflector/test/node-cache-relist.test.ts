import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { projectNode, type KubeNodeLike, type NodeSnapshot } from '@knm/contracts';
import { startKubeSim, type KubeSim } from '@knm/fake-cluster';
import { waitFor } from '@knm/testing';
import { HttpListerWatcher } from '../src/http/http-lister-watcher.js';
import { KubeHttpClient } from '../src/http/kube-http-client.js';
import { NodeCache } from '../src/node-cache.js';
import type { ListReason } from '../src/reflector-observer.js';
import { Reflector } from '../src/reflector.js';

let sim: KubeSim | undefined;
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
  await sim?.close();
  sim = undefined;
});

/** A node reflector feeding a NodeCache, as the watcher wires them; records its lists' reasons. */
function nodeReflector(s: KubeSim, initialSync: 'list' | 'watch-list') {
  const kc = new KubeConfig();
  kc.loadFromString(s.kubeconfig());
  const lw = new HttpListerWatcher<NodeSnapshot>(new KubeHttpClient(kc), {
    resource: 'nodes',
    path: '/api/v1/nodes',
    project: (raw) => projectNode(raw as KubeNodeLike),
  });
  const cache = new NodeCache();
  const lists: ListReason[] = [];
  const reflector = new Reflector(
    lw,
    {
      replace: async (items) => void cache.replace(items),
      apply: async (e) => void cache.apply(e),
    },
    { initialSync, observer: { onListed: (_r, info) => lists.push(info.reason) } },
  );
  stops.push(() => reflector.stop());
  reflector.start();
  return { cache, lists, reflector };
}

const cached = (cache: NodeCache) => Object.fromEntries(cache.list().map((n) => [n.name, n]));

async function beats(s: KubeSim, n: number): Promise<void> {
  const target = s.heartbeats.beats + n;
  await waitFor(() => s.heartbeats.beats >= target, { timeout: 20_000, what: `${n} heartbeats` });
}

describe('NodeCache relist against kube-sim truth (resourceVersions included)', () => {
  it.each(['watch-list', 'list'] as const)(
    'heartbeats, then a 410 relist (%s): the cache keeps each node at its last change that mattered, as the truth does',
    async (mode) => {
      const s = (sim = await startKubeSim({ nodes: 12, pods: 60, seed: 8 }));
      const { cache, lists, reflector } = nodeReflector(s, mode);
      await reflector.waitForSync();
      expect(cached(cache)).toEqual(s.truth().nodes);

      s.heartbeats.setInterval(1);
      const edited = Object.keys(s.truth().nodes)[4] as string;
      const res = await fetch(`${s.url}/api/v1/nodes/${edited}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ metadata: { labels: { 'knm.test/edited': 'yes' } } }),
      });
      expect(res.status).toBe(200);
      await beats(s, 36);
      // Move the version past the node watch's last event, forget the log, drop the
      // watch: its resume point is gone (410) and the nodes are listed afresh, every
      // one at a heartbeat's version newer than the one the cache holds.
      s.cluster.pause();
      s.cluster.createObject('Namespace', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'bump', uid: '', resourceVersion: '', creationTimestamp: '' },
      });
      s.cluster.store.compact();
      s.hub.dropAll('end');
      s.cluster.resume();
      await waitFor(() => lists.includes('expired'), { timeout: 20_000, what: 'a relist after 410' });
      await beats(s, 24);
      s.cluster.pause();
      const truth = await waitFor(
        () => {
          const t = s.truth().nodes;
          return isDeepStrictEqual(cached(cache), t) ? t : false;
        },
        { timeout: 20_000, what: 'the cache to equal the truth' },
      );
      expect(cached(cache)).toEqual(truth);
      expect(lists).toEqual(['initial', 'expired']);
      expect(truth[edited]?.labels['knm.test/edited']).toBe('yes');
      for (const name of Object.keys(truth)) {
        expect(s.cluster.store.get('Node', name)?.metadata.resourceVersion).not.toBe(
          truth[name]?.resourceVersion,
        );
      }

      // A reflector that lists only now cannot know which versions were heartbeats:
      // it holds the latest ones (equal in every other respect). That is why tests
      // turn heartbeats on after their watchers have synced.
      const late = nodeReflector(s, mode);
      await late.reflector.waitForSync();
      const lateNodes = cached(late.cache);
      for (const name of Object.keys(truth)) {
        expect(lateNodes[name]?.resourceVersion).toBe(
          s.cluster.store.get('Node', name)?.metadata.resourceVersion,
        );
        expect({ ...lateNodes[name], resourceVersion: '' }).toEqual({ ...truth[name], resourceVersion: '' });
      }
    },
    60_000,
  );
});
