import { afterEach, describe, expect, it } from 'vitest';
import { ClusterMetaSchema, decode } from '@knm/contracts';
import { createTestRedis, sleep, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';
import { SCALE_DOWN_DISABLED_ANNOTATION } from '@knm/fake-cluster';
import {
  expectConverged,
  metricsPortOf,
  metricValue,
  quiesce,
  spawnWatcher,
  startSim,
  type SimHandle,
} from './harness.js';

const CLUSTER = 'dev';

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

/** Labels, taints and cordons a few nodes the way kubectl does. */
async function editNodes(s: SimHandle, names: string[]): Promise<void> {
  const [a, b, c] = names;
  if (a) await s.patchNode(a, { metadata: { labels: { 'knm.test/env': 'prod' } } });
  if (b)
    await s.patchNode(
      b,
      { spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] } },
      true,
    );
  if (c) await s.patchNode(c, { spec: { unschedulable: true } }, true);
  if (a) await s.patchNode(a, { metadata: { labels: { 'knm.test/env': null, 'knm.test/tier': 'web' } } });
}

describe('watcher: Redis equals the cluster', () => {
  it.each(['watch-list', 'list'])(
    'after churn (pods created, moved, completed, deleted; nodes edited, added, removed) and quiet (initial sync: %s)',
    async (mode) => {
      redis = await createTestRedis();
      sim = await startSim({ nodes: 30, pods: 600, seed: 11, jobRunMs: [300, 1_500] });
      const watcher = spawnWatcher(sim, redis, CLUSTER, ['--initial-sync', mode]);
      procs.push(watcher);
      await watcher.waitForOutput(/"msg":"watcher ready"/, 30_000);
      const listed = await watcher.waitForOutput(
        /"resource":"pods","reason":"initial","items":\d+,"pages":(\d+)/,
      );
      // WatchList streams the state (no pages); a LIST of 600 pods takes 2 pages of 500.
      expect(Number(listed[1])).toBe(mode === 'watch-list' ? 0 : 2);
      await expectConverged(sim, redis, CLUSTER);

      const names = Object.keys(sim.sim.truth().nodes).slice(1, 4);
      // Churn removes random nodes; like the cluster autoscaler, it spares these.
      for (const name of names) {
        await sim.patchNode(name, {
          metadata: { annotations: { [SCALE_DOWN_DISABLED_ANNOTATION]: 'true' } },
        });
      }
      await sim.control('churn', { rate: 80 });
      await editNodes(sim, names);
      await sleep(3_000); // churn runs; the assertion is the convergence below
      await quiesce(sim);
      const state = await expectConverged(sim, redis, CLUSTER);

      expect(state.nodes[names[0] as string]?.labels['knm.test/tier']).toBe('web');
      expect(state.nodes[names[0] as string]?.labels['knm.test/env']).toBeUndefined();
      expect(state.nodes[names[1] as string]?.taints).toEqual([
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      ]);
      expect(state.nodes[names[2] as string]?.unschedulable).toBe(true);
      const churned = (await (await fetch(`${sim.sim.url}/_sim/stats`)).json()) as { churnEvents: number };
      expect(churned.churnEvents).toBeGreaterThan(50);

      const meta = decode(
        ClusterMetaSchema,
        await redis.client.hgetall(redis.keyspace.cluster(CLUSTER as never).meta),
        'meta',
      );
      expect(meta.status).toBe('ready');
      expect(meta.nodeCount).toBe(Object.keys(state.nodes).length);
      expect(meta.podCount).toBe(Object.values(state.podCounts).reduce((x, y) => x + y, 0));
      expect(meta.leader).toMatch(/\//);
      // Only nodes with pods take something, and most do (kube-sim's pods mostly request cpu and memory).
      const allocated = Object.keys(state.allocation);
      expect(allocated.every((name) => (state.podCounts[name] ?? 0) > 0)).toBe(true);
      expect(allocated.length).toBeGreaterThan(Object.keys(state.podCounts).length / 2);
    },
    120_000,
  );

  it('suppresses 100% of heartbeat-only node updates (raw MODIFIED events vs envelopes)', async () => {
    redis = await createTestRedis();
    sim = await startSim({ nodes: 20, pods: 100, seed: 3 });
    const watcher = spawnWatcher(sim, redis, CLUSTER);
    procs.push(watcher);
    const port = await metricsPortOf(watcher);
    await watcher.waitForOutput(/"msg":"watcher ready"/, 30_000);
    await expectConverged(sim, redis, CLUSTER);
    // Heartbeats start once the watcher holds every node (see expectConverged).
    await sim.control('heartbeat', { seconds: 1 });
    const sub = redis.connect();
    const envelopes: { type: string }[] = [];
    sub.on('message', (_channel: string, message: string) =>
      envelopes.push(JSON.parse(message) as { type: string }),
    );
    await sub.subscribe(redis.keyspace.cluster(CLUSTER as never).changes);
    // No churn: the only node updates are kubelet heartbeats.

    const before = await metricValue(port, 'knm_watcher_watch_events_total', {
      resource: 'nodes',
      type: 'MODIFIED',
    });
    await waitFor(
      async () =>
        (await metricValue(port, 'knm_watcher_watch_events_total', { resource: 'nodes', type: 'MODIFIED' })) -
          before >=
        40,
      { timeout: 20_000, what: '40 heartbeat updates' },
    );
    await sim.control('heartbeat', { seconds: 0 });
    // Both counters come from one process; once heartbeats stop they settle. They
    // can only become equal if every raw update was suppressed.
    const [raw, suppressed] = await waitFor(
      async () => {
        const r = await metricValue(port, 'knm_watcher_watch_events_total', {
          resource: 'nodes',
          type: 'MODIFIED',
        });
        const s = await metricValue(port, 'knm_watcher_heartbeats_suppressed_total');
        return r === s ? [r, s] : false;
      },
      { timeout: 10_000, what: 'suppressed == raw node MODIFIED events' },
    );
    const nodeWrites = await metricValue(port, 'knm_watcher_redis_writes_total', { kind: 'nodes' });
    console.log(
      `heartbeats: ${raw} raw node MODIFIED events, ${suppressed} suppressed, ${nodeWrites} node writes`,
    );
    expect(suppressed).toBe(raw);
    expect(nodeWrites).toBe(0);
    expect(envelopes.filter((e) => e.type.startsWith('node_'))).toEqual([]);
    // Exact, resourceVersions included: Redis holds each node's last change that
    // mattered, as the truth does, though every node's stored version moved on.
    const state = await expectConverged(sim, redis, CLUSTER);
    for (const [name, node] of Object.entries(state.nodes)) {
      expect(sim.sim.cluster.store.get('Node', name)?.metadata.resourceVersion).not.toBe(
        node.resourceVersion,
      );
    }
  }, 90_000);
});
