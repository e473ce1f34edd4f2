import { afterEach, describe, expect, it } from 'vitest';
import { ClusterMetaSchema, decode, type ClusterName } from '@knm/contracts';
import { createTestRedis, sleep, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';
import type { KubeSimOptions } from '@knm/fake-cluster';
import {
  expectConverged,
  metricsPortOf,
  metricValue,
  quiesce,
  spawnWatcher,
  startSim,
  type SimHandle,
} from './harness.js';

const CLUSTER = 'faulty';

let redis: TestRedis | undefined;
let sim: SimHandle | undefined;
const procs: ManagedProcess[] = [];

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL', 1_000)));
  await sim?.close();
  await redis?.close();
  sim = undefined;
  redis = undefined;
});

/** A sim churning at `churnRate` (0: none) and a ready watcher; returns the watcher's metrics port. */
async function setup(
  extra: string[] = [],
  world: KubeSimOptions = { nodes: 20, pods: 400, seed: 5, jobRunMs: [300, 1_500] },
  churnRate = 60,
): Promise<{ s: SimHandle; r: TestRedis; port: number; watcher: ManagedProcess }> {
  redis = await createTestRedis();
  sim = await startSim(world);
  const watcher = spawnWatcher(sim, redis, CLUSTER, extra);
  procs.push(watcher);
  const port = await metricsPortOf(watcher);
  await watcher.waitForOutput(/"msg":"watcher ready"/, 30_000);
  await expectConverged(sim, redis, CLUSTER);
  if (churnRate > 0) {
    await sim.control('churn', { rate: churnRate });
    await sleep(500);
  }
  return { s: sim, r: redis, port, watcher };
}

async function metaOf(r: TestRedis) {
  return decode(
    ClusterMetaSchema,
    await r.client.hgetall(r.keyspace.cluster(CLUSTER as ClusterName).meta),
    'meta',
  );
}

describe('watcher: stays exact through faults', () => {
  it('a dropped watch: resumes from the last resourceVersion, no relist', async () => {
    const { s, r, port } = await setup();
    await s.control('faults', { dropWatches: true });
    await sleep(700);
    await s.control('faults', { resetWatches: true });
    await sleep(1_000);
    await quiesce(s);
    await expectConverged(s, r, CLUSTER);
    expect(await metricValue(port, 'knm_watcher_watch_restarts_total')).toBeGreaterThanOrEqual(2);
    expect(await metricValue(port, 'knm_watcher_relists_total', { reason: 'expired' })).toBe(0);
  }, 90_000);

  it('a compacted log (410): relists and writes the differences, no resync; deletes missed meanwhile vanish', async () => {
    const { s, r, port } = await setup();
    const sub = r.connect();
    const resyncs: string[] = [];
    sub.on('message', (_c: string, m: string) => {
      const e = JSON.parse(m) as { type: string; data: { reason?: string } };
      if (e.type === 'resync') resyncs.push(e.data.reason ?? '');
    });
    await sub.subscribe(r.keyspace.cluster(CLUSTER as ClusterName).changes);
    await s.control('faults', { compact: true, dropWatches: true });
    await waitFor(
      async () => (await metricValue(port, 'knm_watcher_relists_total', { reason: 'expired' })) >= 1,
      {
        timeout: 20_000,
        what: 'a relist after 410',
      },
    );
    await sleep(500);
    await quiesce(s);
    await expectConverged(s, r, CLUSTER);
    expect(await metricValue(port, 'knm_watcher_watch_expired_total')).toBeGreaterThanOrEqual(1);
    expect(resyncs).toEqual([]);
    expect(
      await metricValue(port, 'knm_watcher_reconciles_total', { reason: 'relist' }),
    ).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it.each(['watch-list', 'list'])(
    'heartbeats, then a compacted log and a dropped watch (initial sync: %s): the relist keeps each node at its last change that mattered, so Redis equals the truth, resourceVersions included',
    async (mode) => {
      redis = await createTestRedis();
      sim = await startSim({ nodes: 20, pods: 200, seed: 7 });
      const s = sim;
      const r = redis;
      const watcher = spawnWatcher(s, r, CLUSTER, ['--initial-sync', mode]);
      procs.push(watcher);
      const port = await metricsPortOf(watcher);
      await watcher.waitForOutput(/"msg":"watcher ready"/, 30_000);
      await expectConverged(s, r, CLUSTER);
      const store = s.sim.cluster.store;
      const [edited] = Object.keys(s.sim.truth().nodes);
      const beatsAfter = async (n: number, what: string) => {
        const target = s.sim.heartbeats.beats + n;
        await waitFor(() => s.sim.heartbeats.beats >= target, { timeout: 20_000, what });
      };

      await s.control('heartbeat', { seconds: 1 });
      await s.patchNode(edited as string, { metadata: { labels: { 'knm.test/before': 'relist' } } });
      await beatsAfter(60, 'three heartbeats per node');
      // The node watch is caught up to the latest version (heartbeats are node events):
      // a write of another kind moves the version on, so after compaction the node
      // watch's resume point is gone (410) and the nodes are relisted.
      await s.control('pause');
      s.sim.cluster.createObject('Namespace', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'knm-test-bump', uid: '', resourceVersion: '', creationTimestamp: '' },
      });
      await s.control('faults', { compact: true, dropWatches: true });
      await s.control('resume');
      await waitFor(
        async () =>
          (await metricValue(port, 'knm_watcher_relists_total', { resource: 'nodes', reason: 'expired' })) >=
          1,
        { timeout: 20_000, what: 'a node relist after 410' },
      );
      await beatsAfter(40, 'heartbeats after the relist');
      await quiesce(s);
      const state = await expectConverged(s, r, CLUSTER);

      // Not vacuous: every node's stored version moved past the one Redis and the truth hold.
      const names = Object.keys(state.nodes);
      expect(names).toHaveLength(20);
      for (const name of names) {
        expect(store.get('Node', name)?.metadata.resourceVersion).not.toBe(
          state.nodes[name]?.resourceVersion,
        );
      }
      expect(state.nodes[edited as string]?.labels['knm.test/before']).toBe('relist');
      expect(await metricValue(port, 'knm_watcher_redis_writes_total', { kind: 'nodes' })).toBe(1);
    },
    90_000,
  );

  it('500s and 429s: backs off, retries, converges', async () => {
    const { s, r, port } = await setup();
    await s.control('faults', { errorRate: { fraction: 1, status: 500, seconds: 2 }, resetWatches: true });
    await sleep(2_500);
    await s.control('faults', { errorRate: { fraction: 0.7, status: 429, seconds: 2 }, resetWatches: true });
    await sleep(2_500);
    await s.control('faults', { clear: true });
    await quiesce(s);
    await expectConverged(s, r, CLUSTER);
    expect(await metricValue(port, 'knm_watcher_errors_total', { error: 'ApiError' })).toBeGreaterThanOrEqual(
      1,
    );
  }, 90_000);

  it('an API outage of several seconds: degraded with the error meanwhile, ready and exact after', async () => {
    const { s, r } = await setup();
    await s.control('faults', { downForSeconds: 4 });
    const degraded = await waitFor(
      async () => {
        const meta = await metaOf(r);
        return meta.status === 'degraded' ? meta : false;
      },
      { timeout: 15_000, what: 'status degraded' },
    );
    expect(degraded.error).toMatch(/^(nodes|pods): /);
    await waitFor(async () => (await metaOf(r)).status === 'ready', {
      timeout: 30_000,
      what: 'status ready again',
    });
    await quiesce(s);
    await expectConverged(s, r, CLUSTER);
    expect((await metaOf(r)).error).toBeUndefined();
  }, 90_000);

  it('a pod count Redis lost: the next delete would take it below 0; counted, logged, and the counts are rewritten', async () => {
    const { s, r, port, watcher } = await setup([], { nodes: 5, pods: 60, seed: 9 }, 0);
    await quiesce(s);
    await expectConverged(s, r, CLUSTER);
    const [node] = Object.entries(s.sim.truth().podCounts).find(([, count]) => count >= 2) ?? [];
    expect(node).toBeDefined();
    // Redis forgets the node's count behind the watcher's back.
    await r.client.hdel(r.keyspace.cluster(CLUSTER as ClusterName).pods, node as string);

    const headers = { authorization: `Bearer ${s.sim.token}` };
    const list = (await (
      await fetch(`${s.sim.url}/api/v1/pods?fieldSelector=spec.nodeName%3D${node as string}`, { headers })
    ).json()) as { items: { metadata: { name: string; namespace: string } }[] };
    const [pod] = list.items;
    const deleted = await fetch(
      `${s.sim.url}/api/v1/namespaces/${pod?.metadata.namespace}/pods/${pod?.metadata.name}?gracePeriodSeconds=0`,
      { method: 'DELETE', headers },
    );
    expect(deleted.ok).toBe(true);

    await watcher.waitForOutput(/"msg":"pod counts in redis disagreed with the pod index/, 15_000);
    expect(await metricValue(port, 'knm_watcher_pod_count_underflows_total')).toBe(1);
    const state = await expectConverged(s, r, CLUSTER);
    expect(state.podCounts[node as string]).toBeGreaterThanOrEqual(1);
    expect(
      await metricValue(port, 'knm_watcher_reconciles_total', { reason: 'repair' }),
    ).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('a stalled watch: the watchdog restarts it', async () => {
    const { s, r, port } = await setup(['--watchdog-seconds', '2']);
    await s.control('faults', { stallWatches: true });
    await waitFor(
      async () => (await metricValue(port, 'knm_watcher_watch_restarts_total', { reason: 'watchdog' })) >= 2,
      {
        timeout: 20_000,
        what: 'watchdog restarts of both watches',
      },
    );
    await s.control('faults', { stallWatches: false });
    await sleep(500);
    await quiesce(s);
    await expectConverged(s, r, CLUSTER);
  }, 90_000);
});
