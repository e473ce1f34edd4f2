import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { podResourceTotals, type NodeAllocation, type NodeSnapshot } from '@knm/contracts';
import { startKubeSim, type KubeSim, type KubeSimOptions } from '@knm/fake-cluster';
import { NodeStoreReader } from '@knm/node-store';
import { spawnTestWatcher, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';
import type { ClusterName } from '@knm/contracts';

/** A kube-sim for one test, its kubeconfig on disk, and helpers to drive it over HTTP. */
export interface SimHandle {
  sim: KubeSim;
  kubeconfigPath: string;
  /** POSTs a `/_sim/*` control request. */
  control(path: string, body?: unknown): Promise<unknown>;
  /** PATCHes a node over the API (merge patch unless `strategic`). */
  patchNode(name: string, patch: unknown, strategic?: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startSim(options: KubeSimOptions): Promise<SimHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'knm-watcher-test-'));
  const kubeconfigPath = join(dir, 'sim.kubeconfig');
  const sim = await startKubeSim({ ...options, kubeconfigOut: kubeconfigPath });
  const headers = { authorization: `Bearer ${sim.token}` };
  return {
    sim,
    kubeconfigPath,
    async control(path, body = {}) {
      const res = await fetch(`${sim.url}/_sim/${path}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`POST /_sim/${path}: HTTP ${res.status} ${await res.text()}`);
      return res.json();
    },
    async patchNode(name, patch, strategic = false) {
      const res = await fetch(`${sim.url}/api/v1/nodes/${name}`, {
        method: 'PATCH',
        headers: {
          ...headers,
          'content-type': strategic
            ? 'application/strategic-merge-patch+json'
            : 'application/merge-patch+json',
        },
        body: JSON.stringify(patch),
      });
      if (!res.ok) throw new Error(`PATCH node ${name}: HTTP ${res.status} ${await res.text()}`);
    },
    async close() {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a watcher process for `cluster` against `sim`, writing under the test's Redis namespace. */
export function spawnWatcher(
  sim: SimHandle,
  redis: TestRedis,
  cluster: string,
  extra: readonly string[] = [],
  name = 'watcher',
): ManagedProcess {
  return spawnTestWatcher({
    cluster,
    kubeconfigPath: sim.kubeconfigPath,
    redis,
    args: extra,
    name,
  });
}

/** The metrics port a watcher printed. */
export async function metricsPortOf(proc: ManagedProcess): Promise<number> {
  const match = await proc.waitForOutput(
    /"port":(\d+),"host":"127\.0\.0\.1","msg":"metrics listening"/,
    30_000,
  );
  return Number(match[1]);
}

/** Reads one counter (summing the series that match all `labels`) from a watcher's /metrics. */
export async function metricValue(
  port: number,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{([^}]*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const seriesLabels = Object.fromEntries(
      (m[3] ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => {
          const [k, v] = kv.split('=');
          return [k, (v ?? '').replace(/^"|"$/g, '')];
        }),
    );
    if (Object.entries(labels).every(([k, v]) => seriesLabels[k] === v)) sum += Number(m[4]);
  }
  return sum;
}

/** What Redis and the truth are compared on. */
export interface ComparableState {
  nodes: Record<string, NodeSnapshot>;
  podCounts: Record<string, number>;
  allocation: Record<string, NodeAllocation>;
}

/** The cluster's state in Redis (one atomic snapshot read). */
export async function redisState(redis: TestRedis, cluster: string): Promise<ComparableState> {
  const reader = new NodeStoreReader(redis.client, redis.keyspace);
  const snap = await reader.getSnapshot(cluster as ClusterName);
  return {
    nodes: Object.fromEntries(snap.nodes.map((n) => [n.name, n])),
    podCounts: snap.podCounts,
    allocation: snap.allocation,
  };
}

/**
 * Every node's allocation recounted from the simulator's pods: the sums of
 * `podResourceTotals` of the pods that count (bound, not Succeeded/Failed), zero
 * entries and empty nodes left out, names sorted (as Redis stores them).
 */
export function allocationTruth(sim: SimHandle): Record<string, NodeAllocation> {
  const sums = new Map<string, { requests: Map<string, number>; limits: Map<string, number> }>();
  for (const raw of sim.sim.cluster.store.kind('Pod').values()) {
    const pod = raw as { spec?: { nodeName?: string }; status?: { phase?: string } };
    const node = pod.spec?.nodeName;
    if (!node || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const totals = podResourceTotals(raw);
    let entry = sums.get(node);
    if (!entry) sums.set(node, (entry = { requests: new Map(), limits: new Map() }));
    for (const [name, v] of Object.entries(totals.requests))
      entry.requests.set(name, (entry.requests.get(name) ?? 0) + v);
    for (const [name, v] of Object.entries(totals.limits))
      entry.limits.set(name, (entry.limits.get(name) ?? 0) + v);
  }
  const sorted = (m: Map<string, number>) =>
    Object.fromEntries([...m].filter(([, v]) => v !== 0).sort(([a], [b]) => (a < b ? -1 : 1)));
  const out: Record<string, NodeAllocation> = {};
  for (const [node, entry] of sums) {
    const allocation = { requests: sorted(entry.requests), limits: sorted(entry.limits) };
    if (Object.keys(allocation.requests).length + Object.keys(allocation.limits).length > 0)
      out[node] = allocation;
  }
  return out;
}

/**
 * Waits until Redis equals the simulator's truth exactly: every node snapshot
 * (resourceVersion included), every pod count and every node's allocation
 * (recounted from the simulator's pods). The truth's node version is the
 * one of the node's last change that mattered, which is what a watcher that drops
 * heartbeat-only updates holds, also after a relist. A watcher whose first list
 * (or a 410 relist after missing a node's change) comes after heartbeats holds that
 * list's newer versions instead (see `TruthSchema`), so tests turn heartbeats on
 * once the watcher has synced.
 */
export async function expectConverged(
  sim: SimHandle,
  redis: TestRedis,
  cluster: string,
  options: { timeout?: number } = {},
): Promise<ComparableState> {
  let last: { redis: ComparableState; truth: ComparableState } | undefined;
  try {
    return await waitFor(
      async () => {
        const truth = sim.sim.truth();
        const state = await redisState(redis, cluster);
        last = {
          redis: state,
          truth: { nodes: truth.nodes, podCounts: truth.podCounts, allocation: allocationTruth(sim) },
        };
        return isDeepStrictEqual(last.redis, last.truth) ? state : false;
      },
      { timeout: options.timeout ?? 30_000, interval: 100, what: 'Redis to equal /_sim/truth' },
    );
  } catch (err) {
    if (last)
      throw new Error(`${(err as Error).message}\n${describeDiff(last.redis, last.truth)}`, { cause: err });
    throw err;
  }
}

function describeDiff(redis: ComparableState, truth: ComparableState): string {
  const lines: string[] = [];
  for (const name of new Set([...Object.keys(redis.nodes), ...Object.keys(truth.nodes)])) {
    if (!isDeepStrictEqual(redis.nodes[name], truth.nodes[name])) {
      lines.push(
        `node ${name}: redis=${JSON.stringify(redis.nodes[name])?.slice(0, 300)} truth=${JSON.stringify(truth.nodes[name])?.slice(0, 300)}`,
      );
    }
  }
  for (const name of new Set([...Object.keys(redis.podCounts), ...Object.keys(truth.podCounts)])) {
    if (redis.podCounts[name] !== truth.podCounts[name]) {
      lines.push(`pods ${name}: redis=${redis.podCounts[name]} truth=${truth.podCounts[name]}`);
    }
  }
  for (const name of new Set([...Object.keys(redis.allocation), ...Object.keys(truth.allocation)])) {
    if (!isDeepStrictEqual(redis.allocation[name], truth.allocation[name])) {
      lines.push(
        `allocation ${name}: redis=${JSON.stringify(redis.allocation[name])} truth=${JSON.stringify(truth.allocation[name])}`,
      );
    }
  }
  return lines.slice(0, 20).join('\n');
}

/** Stops churn and controllers so the cluster goes quiet. */
export async function quiesce(sim: SimHandle): Promise<void> {
  await sim.control('churn', { rate: 0 });
  await sim.control('pause');
}
