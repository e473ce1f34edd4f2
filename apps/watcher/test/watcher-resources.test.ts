import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EnvelopeSchema,
  UsageSnapshotSchema,
  decodeJson,
  toClusterName,
  type NodeAllocation,
} from '@knm/contracts';
import { NodePodsClient } from '@knm/node-store';
import { createTestRedis, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';
import {
  expectConverged,
  metricsPortOf,
  metricValue,
  quiesce,
  redisState,
  spawnWatcher,
  startSim,
  type SimHandle,
} from './harness.js';

const CLUSTER = 'dev';

let redis: TestRedis | undefined;
let sim: SimHandle | undefined;
const procs: ManagedProcess[] = [];
const clients: NodePodsClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL', 1_000)));
  await sim?.close();
  await redis?.close();
  sim = undefined;
  redis = undefined;
});

/** Sums requests and limits of pods as the node's allocation (names sorted, zeros left out). */
function sumOf(
  pods: readonly { requests: Record<string, number>; limits: Record<string, number> }[],
): NodeAllocation {
  const add = (into: Map<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) into.set(k, (into.get(k) ?? 0) + v);
  };
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  for (const pod of pods) {
    add(requests, pod.requests);
    add(limits, pod.limits);
  }
  const sorted = (m: Map<string, number>) =>
    Object.fromEntries([...m].filter(([, v]) => v !== 0).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { requests: sorted(requests), limits: sorted(limits) };
}

describe('watcher: usage and the pods behind the numbers', () => {
  it('usage: the leader writes each poll of kube-sim’s metrics.k8s.io, equal to what it serves', async () => {
    redis = await createTestRedis();
    sim = await startSim({ nodes: 5, pods: 40, seed: 3, metricsResolutionSeconds: 1 });
    const watcher = spawnWatcher(sim, redis, CLUSTER, ['--metrics-interval', '0.2']);
    procs.push(watcher);
    await watcher.waitForOutput(/"msg":"usage available"/, 30_000);
    const keys = redis.keyspace.cluster(toClusterName(CLUSTER));
    const s = sim;
    const r = redis;
    await waitFor(
      async () => {
        const truth = s.sim.truth().usage;
        const raw = await r.client.get(keys.usage);
        const usage = raw === null ? undefined : decodeJson(UsageSnapshotSchema, raw, 'usage');
        if (!truth || !usage?.available || usage.timestamp !== truth.timestamp) return false;
        // What `kubectl top node` shows, in base units: cpu rounded up to millicores.
        const expected = Object.fromEntries(
          Object.entries(truth.nodes).map(([name, u]) => [name, { cpu: Math.ceil(u.cpu), memory: u.memory }]),
        );
        return isDeepStrictEqual(usage.nodes, expected) && Object.keys(expected).length === 5;
      },
      { what: 'Redis usage to equal the metrics snapshot kube-sim serves' },
    );
  });

  it('without a metrics API (kube-sim --no-metrics): usage unavailable, written and logged once while it keeps polling', async () => {
    redis = await createTestRedis();
    sim = await startSim({ nodes: 5, pods: 40, seed: 3, metrics: false });
    const watcher = spawnWatcher(sim, redis, CLUSTER, ['--metrics-interval', '0.1']);
    procs.push(watcher);
    const port = await metricsPortOf(watcher);
    await watcher.waitForOutput(/"msg":"watcher ready"/, 30_000);
    await waitFor(
      async () => (await metricValue(port, 'knm_watcher_usage_polls_total', { outcome: 'unavailable' })) >= 8,
      {
        what: 'eight polls',
      },
    );
    const keys = redis.keyspace.cluster(toClusterName(CLUSTER));
    const usage = decodeJson(UsageSnapshotSchema, (await redis.client.get(keys.usage)) ?? '', 'usage');
    expect(usage).toMatchObject({
      available: false,
      reason: expect.stringContaining('metrics.k8s.io') as string,
    });
    const envelopes = (await redis.client.xrange(keys.events, '-', '+')).map(([, f]) =>
      decodeJson(EnvelopeSchema, f[1] ?? '', 'entry'),
    );
    expect(envelopes.filter((e) => e.type === 'usage')).toHaveLength(1);
    expect(watcher.output().match(/"msg":"usage unavailable"/g)).toHaveLength(1);
  });

  it('lists a node’s pods for a gateway (leader only, the new one after a failover), with the same requests and limits as the node’s sums', async () => {
    redis = await createTestRedis();
    sim = await startSim({ nodes: 6, pods: 80, seed: 5 });
    const leader = spawnWatcher(sim, redis, CLUSTER, ['--metrics-interval', '0'], 'leader');
    procs.push(leader);
    await leader.waitForOutput(/"msg":"watcher ready"/, 30_000);
    const standby = spawnWatcher(sim, redis, CLUSTER, ['--metrics-interval', '0'], 'standby');
    procs.push(standby);
    await standby.waitForOutput(/"msg":"watcher standby"/, 30_000);
    await quiesce(sim);
    await expectConverged(sim, redis, CLUSTER);
    const keys = redis.keyspace.cluster(toClusterName(CLUSTER));
    // Only the leader listens for requests.
    expect((await redis.client.pubsub('NUMSUB', keys.podsRequests))[1]).toBe(1);

    const gateway = new NodePodsClient(redis.client, redis.connect(), redis.keyspace, { timeoutMs: 10_000 });
    clients.push(gateway);
    const state = await redisState(redis, CLUSTER);
    const node = Object.keys(state.podCounts).sort(
      (a, b) => (state.podCounts[b] ?? 0) - (state.podCounts[a] ?? 0),
    )[0] as string;
    const answer = await gateway.get(toClusterName(CLUSTER), node);
    if (!answer.ok) throw new Error(`expected the pods of ${node}, got ${answer.status} ${answer.message}`);
    const truthNames = [...sim.sim.cluster.store.kind('Pod').values()]
      .filter((p) => (p as { spec?: { nodeName?: string } }).spec?.nodeName === node)
      .map((p) => (p as { metadata: { namespace: string; name: string } }).metadata)
      .map((m) => `${m.namespace}/${m.name}`)
      .sort();
    expect(answer.items.map((p) => `${p.namespace}/${p.name}`).sort()).toEqual(truthNames);
    expect(answer.truncated).toBe(false);
    // kube-sim serves PodMetrics: the running pods carry their usage.
    expect(answer.usageAvailable).toBe(true);
    expect(answer.items.filter((p) => p.phase === 'Running').every((p) => p.usage !== undefined)).toBe(true);
    const counted = answer.items.filter((p) => p.counted);
    expect(counted).toHaveLength(state.podCounts[node] ?? 0);
    expect(sumOf(counted)).toEqual(state.allocation[node]);
    expect(answer.items.some((p) => p.owner !== undefined)).toBe(true);

    expect(await gateway.get(toClusterName(CLUSTER), 'no-such-node')).toMatchObject({
      ok: false,
      status: 404,
    });

    // The leader dies: the standby, leading now, answers (and only it listens).
    await leader.stop('SIGKILL', 1_000);
    await standby.waitForOutput(/"msg":"watcher ready"/, 30_000);
    const other = Object.keys(state.podCounts).find((n) => n !== node) as string;
    expect(await gateway.get(toClusterName(CLUSTER), other)).toMatchObject({ ok: true, node: other });
    expect((await redis.client.pubsub('NUMSUB', keys.podsRequests))[1]).toBe(1);
  });
});
