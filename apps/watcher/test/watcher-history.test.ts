import { afterEach, describe, expect, it } from 'vitest';
import { toClusterName, type HistoryEntry, type Incident } from '@knm/contracts';
import { HistoryReader } from '@knm/node-store';
import { createTestRedis, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';
import { spawnWatcher, startSim, type SimHandle } from './harness.js';

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

/** An entry as the test compares it: what happened, without ids and observation times. */
function describeEntry(e: HistoryEntry): string {
  switch (e.kind) {
    case 'condition':
      return `${e.condition}=${e.status}@${e.at}`;
    case 'cordon':
      return `cordon by ${e.by ?? '?'}: ${e.reason ?? '?'}`;
    case 'taint_added':
    case 'taint_removed':
      return `${e.kind} ${e.taint.key}=${e.taint.value ?? ''}:${e.taint.effect}`;
    default:
      return e.kind;
  }
}

describe('watcher: node history and incidents', () => {
  it('a scripted sequence (flaps, pressure, cordon, taints, add/delete) is in the history exactly once, in order, across a leader kill -9', async () => {
    const cluster = toClusterName('hist');
    redis = await createTestRedis();
    // Heartbeats every second: heartbeat-only updates must add nothing to any history.
    sim = await startSim({ nodes: 3, pods: 10, seed: 11, heartbeatSeconds: 1 });
    const s = sim;
    const flapArgs = ['--flap-transitions', '3', '--flap-window-seconds', '600'];
    const a = spawnWatcher(s, redis, cluster, ['--identity', 'replica-a', ...flapArgs], 'watcher-a');
    procs.push(a);
    await a.waitForOutput(/"msg":"watcher ready"/, 30_000);
    const b = spawnWatcher(s, redis, cluster, ['--identity', 'replica-b', ...flapArgs], 'watcher-b');
    procs.push(b);
    await b.waitForOutput(/"msg":"watcher standby"/, 30_000);

    const reader = new HistoryReader(redis.client, redis.keyspace);
    const history = async (node: string) => (await reader.nodeHistory(cluster, node, { limit: 1_000 })).items;
    // A node without taints of its own, so that a merge patch of the taint list only touches the test's.
    const node = [...s.sim.cluster.store.kind('Node').values()]
      .map((n) => n as { metadata: { name: string }; spec?: { taints?: unknown[] } })
      .filter((n) => (n.spec?.taints ?? []).length === 0)
      .map((n) => n.metadata.name)
      .sort()[0] as string;
    // The node as the watcher first wrote it has no history entry (it came with the rebuild).
    expect(await history(node)).toEqual([]);

    const api = async (
      method: string,
      path: string,
      body: unknown,
      type = 'application/merge-patch+json',
    ) => {
      const res = await fetch(`${s.sim.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${s.sim.token}`, 'content-type': type },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    };
    /** Sets one condition as a kubelet or node-problem-detector does (status subresource, merged by type). */
    const setCondition = async (type: string, status: 'True' | 'False', reason: string) => {
      // Millisecond transition times keep steps of the same second apart (kubelets write whole
      // seconds; a transition whose time did not move is stamped when the watcher saw it).
      const wall = Date.now();
      const at = new Date(wall).toISOString();
      await api(
        'PATCH',
        `/api/v1/nodes/${node}/status`,
        { status: { conditions: [{ type, status, reason, message: reason, lastTransitionTime: at }] } },
        'application/strategic-merge-patch+json',
      );
      return { at, wall };
    };
    const patchNode = (patch: unknown) => api('PATCH', `/api/v1/nodes/${node}`, patch);
    const expectCount = async (name: string, count: number) => {
      try {
        await waitFor(async () => (await history(name)).length === count, { timeout: 15_000 });
      } catch {
        throw new Error(
          `expected ${count} entries of ${name}, got ${JSON.stringify(await history(name), null, 1)}`,
        );
      }
    };

    const t1 = await setCondition('Ready', 'False', 'KubeletNotReady');
    await expectCount(node, 1);
    const t2 = await setCondition('Ready', 'True', 'KubeletReady');
    await expectCount(node, 2);
    const t3 = await setCondition('Ready', 'False', 'KubeletNotReady');
    await expectCount(node, 3);
    const t4 = await setCondition('Ready', 'True', 'KubeletReady');
    await expectCount(node, 4);
    await patchNode({
      spec: { unschedulable: true },
      metadata: { annotations: { 'knm.io/cordoned-by': 'alice', 'knm.io/cordon-reason': 'disk swap' } },
    });
    await expectCount(node, 5);

    // The leader dies; the next change happens while nobody leads, and the standby's
    // reconcile writes it from the difference between its cache and Redis.
    a.signal('SIGKILL');
    await a.exited;
    const t6 = await setCondition('MemoryPressure', 'True', 'KubeletHasInsufficientMemory');
    await b.waitForOutput(/"msg":"watcher ready"/, 30_000);
    await expectCount(node, 6);
    const t7 = await setCondition('MemoryPressure', 'False', 'KubeletHasSufficientMemory');
    await expectCount(node, 7);
    await patchNode({
      spec: { unschedulable: null },
      metadata: { annotations: { 'knm.io/cordoned-by': null, 'knm.io/cordon-reason': null } },
    });
    await expectCount(node, 8);
    await patchNode({
      spec: { taints: [{ key: 'knm.test/maintenance', value: 'x', effect: 'NoSchedule' }] },
    });
    await expectCount(node, 9);
    await patchNode({ spec: { taints: null } });
    await expectCount(node, 10);
    await api(
      'POST',
      '/api/v1/nodes',
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'hist-new' } },
      'application/json',
    );
    await expectCount('hist-new', 1);
    await api('DELETE', '/api/v1/nodes/hist-new', undefined, 'application/json');
    await expectCount('hist-new', 2);

    // Heartbeats kept arriving all along; a little more of them changes nothing either.
    const beats = s.sim.heartbeats.beats;
    await waitFor(() => s.sim.heartbeats.beats >= beats + 6, { timeout: 15_000, what: 'more heartbeats' });
    const entries = (await history(node)).reverse();
    expect(entries.map(describeEntry)).toEqual([
      `Ready=False@${t1.at}`,
      `Ready=True@${t2.at}`,
      `Ready=False@${t3.at}`,
      `Ready=True@${t4.at}`,
      'cordon by alice: disk swap',
      `MemoryPressure=True@${t6.at}`,
      `MemoryPressure=False@${t7.at}`,
      'uncordon',
      'taint_added knm.test/maintenance=x:NoSchedule',
      'taint_removed knm.test/maintenance=x:NoSchedule',
    ]);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    expect((await history('hist-new')).map((e) => e.kind)).toEqual(['node_removed', 'node_added']);

    // Incidents: each unhealthy period once, with the sequence's durations.
    const incidents = (await reader.incidents(cluster)).filter((i) => i.node === node).reverse();
    const expected: [typeof t1, typeof t1, string, boolean][] = [
      [t1, t2, 'Ready=False (KubeletNotReady)', false],
      [t3, t4, 'Ready=False (KubeletNotReady)', true],
      [t6, t7, 'MemoryPressure=True (KubeletHasInsufficientMemory)', true],
    ];
    expect(incidents.map((i: Incident) => [i.start, i.end, i.cause, i.flapping])).toEqual(
      expected.map(([from, to, cause, flapping]) => [
        new Date(from.at).toISOString(),
        new Date(to.at).toISOString(),
        cause,
        flapping,
      ]),
    );
    incidents.forEach((incident, k) => {
      const [from, to] = expected[k] as (typeof expected)[number];
      expect(incident.durationMs).toBe(Date.parse(to.at) - Date.parse(from.at));
      // And equal to what the sequence took between its API calls.
      expect(incident.durationMs).toBe(to.wall - from.wall);
    });
    expect(await reader.incidents(cluster, { open: true })).toEqual([]);
  }, 120_000);
});
