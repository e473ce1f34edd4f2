import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Keyspace, toClusterName, type NodeAllocation, type UsageSnapshot } from '@knm/contracts';
import { NodeStoreReader } from '@knm/node-store';
import { spawnTestWatcher, type ManagedProcess } from '@knm/testing';
import { startGateways, type Gateways } from '../harness/gateways.js';
import {
  benchNamespace,
  deleteNamespace,
  startSimProcess,
  stopAll,
  type SimProcess,
} from '../harness/processes.js';
import type { BenchContext } from '../harness/types.js';

/** The cluster name the watcher registers kube-sim under. */
export const CLUSTER = 'bench';

/** How often the watcher polls node usage (its default, passed explicitly): each poll is one `usage` envelope of every node. */
export const USAGE_INTERVAL_S = 15;

/**
 * kube-sim's `/_sim/truth`, reduced to what is compared: node -> resourceVersion,
 * node -> pod count, node -> requests and limits.
 */
export interface TruthDigestInput {
  resourceVersion: string;
  nodes: Record<string, string>;
  podCounts: Record<string, number>;
  allocation: Record<string, NodeAllocation>;
}

/**
 * The realtime path of knm, each piece in its own process: kube-sim -> watcher ->
 * Redis (a throw-away namespace) -> `gateways` gateway processes. Used by the
 * throughput, latency and fan-out scenarios.
 */
export interface RealtimeSystem {
  sim: SimProcess;
  watcher: ManagedProcess;
  gateways: Gateways;
  /** A viewer token the gateways accept. */
  token: string;
  namespace: string;
  redis: Redis;
  /** Sets kube-sim's churn (events per second; 0 = quiet). */
  churn(rate: number): Promise<void>;
  /** kube-sim's truth (node resourceVersions and pod counts). */
  truth(): Promise<TruthDigestInput>;
  /** What the watcher wrote: the same shape, read atomically from Redis, with its seq and its last usage poll. */
  stored(): Promise<TruthDigestInput & { seq: number; usage: UsageSnapshot | undefined }>;
  /** The watcher's metrics endpoint. */
  metricsUrl: string;
  /** PATCHes a label of `node` at kube-sim. */
  patchLabel(node: string, key: string, value: string): Promise<void>;
  stop(): Promise<void>;
}

/** A request to kube-sim that takes longer than this fails (a simulator that stopped answering must not hang a run). */
const SIM_TIMEOUT_MS = 30_000;

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(url, {
    signal: AbortSignal.timeout(SIM_TIMEOUT_MS),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  await res.arrayBuffer();
}

/** Starts the system at the context's scale and waits until the watcher has written its first snapshot. */
export async function startRealtimeSystem(ctx: BenchContext, gatewayCount: number): Promise<RealtimeSystem> {
  const dir = await mkdtemp(join(tmpdir(), 'knm-bench-rt-'));
  const namespace = benchNamespace();
  const kubeconfigPath = join(dir, 'sim.kubeconfig');
  let sim: SimProcess | undefined;
  let watcher: ManagedProcess | undefined;
  let gateways: Gateways | undefined;
  const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 2 });
  const stop = async (): Promise<void> => {
    await stopAll([watcher, ...(gateways?.procs ?? []), sim?.proc]);
    redis.disconnect();
    await deleteNamespace(ctx.redisUrl, namespace);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const gatewaysStarting = startGateways(gatewayCount, ctx.redisUrl, namespace);
    sim = await startSimProcess({ nodes: ctx.scale.nodes, pods: ctx.scale.pods, kubeconfigPath });
    watcher = spawnTestWatcher({
      cluster: CLUSTER,
      kubeconfigPath,
      redis: { url: ctx.redisUrl, namespace },
      // A benchmark is no place for 2 s leases: a loaded machine must not cause take-overs.
      args: [
        '--lease-ttl-ms',
        '15000',
        '--heartbeat-ms',
        '2000',
        '--metrics-interval',
        String(USAGE_INTERVAL_S),
        '--log-level',
        'info',
      ],
    });
    [gateways] = await Promise.all([
      gatewaysStarting,
      watcher.waitForOutput(/"msg":"watcher ready"/, 600_000),
    ]);
    const [, metricsPort] = await watcher.waitForOutput(
      /"port":(\d+)[^\n]*"msg":"metrics listening"/,
      30_000,
    );
    const token = (gateways.headers['authorization'] ?? '').replace(/^Bearer /, '');
    const s = sim;
    const reader = new NodeStoreReader(redis, new Keyspace(namespace));
    return {
      sim: s,
      watcher,
      gateways,
      token,
      namespace,
      redis,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      churn: (rate) => post(`${s.url}/_sim/churn`, { rate }),
      async truth() {
        const res = await fetch(`${s.url}/_sim/truth`, { signal: AbortSignal.timeout(SIM_TIMEOUT_MS) });
        if (!res.ok) throw new Error(`GET /_sim/truth: HTTP ${res.status}`);
        const truth = (await res.json()) as {
          resourceVersion: string;
          nodes: Record<string, { resourceVersion: string }>;
          podCounts: Record<string, number>;
          allocation: Record<string, NodeAllocation>;
        };
        return {
          resourceVersion: truth.resourceVersion,
          nodes: Object.fromEntries(Object.entries(truth.nodes).map(([n, v]) => [n, v.resourceVersion])),
          podCounts: Object.fromEntries(Object.entries(truth.podCounts).filter(([, c]) => c > 0)),
          allocation: truth.allocation,
        };
      },
      async stored() {
        const snapshot = await reader.getSnapshot(toClusterName(CLUSTER));
        return {
          seq: snapshot.seq,
          resourceVersion: '',
          nodes: Object.fromEntries(snapshot.nodes.map((n) => [n.name, n.resourceVersion])),
          podCounts: Object.fromEntries(Object.entries(snapshot.podCounts).filter(([, c]) => c > 0)),
          allocation: snapshot.allocation,
          usage: snapshot.usage,
        };
      },
      async patchLabel(node, key, value) {
        const res = await fetch(`${s.url}/api/v1/nodes/${node}`, {
          signal: AbortSignal.timeout(SIM_TIMEOUT_MS),
          method: 'PATCH',
          headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify({ metadata: { labels: { [key]: value } } }),
        });
        if (!res.ok) throw new Error(`PATCH node ${node}: HTTP ${res.status}`);
        await res.arrayBuffer();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Where Redis differs from the truth (empty when equal): node versions, then pod counts. */
export function differences(truth: TruthDigestInput, stored: TruthDigestInput): string[] {
  const out: string[] = [];
  for (const name of new Set([...Object.keys(truth.nodes), ...Object.keys(stored.nodes)])) {
    if (truth.nodes[name] !== stored.nodes[name])
      out.push(
        `node ${name}: truth ${truth.nodes[name] ?? 'absent'}, redis ${stored.nodes[name] ?? 'absent'}`,
      );
  }
  for (const name of new Set([...Object.keys(truth.podCounts), ...Object.keys(stored.podCounts)])) {
    if ((truth.podCounts[name] ?? 0) !== (stored.podCounts[name] ?? 0))
      out.push(`pods on ${name}: truth ${truth.podCounts[name] ?? 0}, redis ${stored.podCounts[name] ?? 0}`);
  }
  return out;
}

/** Watcher counters read from its Prometheus endpoint. */
export interface WatcherCounters {
  /** Pod and node watch events (ADDED, MODIFIED, DELETED). */
  events: number;
  podEvents: number;
  /** Successful Redis writes of pod counts and of nodes. */
  podWrites: number;
  nodeWrites: number;
}

/** The watcher's counters from its Prometheus endpoint (`http://127.0.0.1:<port>/metrics`). */
export async function watcherCounters(metricsUrl: string): Promise<WatcherCounters> {
  const res = await fetch(metricsUrl);
  if (!res.ok) throw new Error(`GET ${metricsUrl}: HTTP ${res.status}`);
  const text = await res.text();
  const counters: WatcherCounters = { events: 0, podEvents: 0, podWrites: 0, nodeWrites: 0 };
  for (const line of text.split('\n')) {
    const m = /^(knm_watcher_watch_events_total|knm_watcher_redis_writes_total)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
    );
    const value = Number(m[3]);
    if (
      m[1] === 'knm_watcher_watch_events_total' &&
      labels['type'] !== 'BOOKMARK' &&
      labels['type'] !== 'ERROR'
    ) {
      counters.events += value;
      if (labels['resource'] === 'pods') counters.podEvents += value;
    } else if (m[1] === 'knm_watcher_redis_writes_total' && labels['result'] === 'ok') {
      if (labels['kind'] === 'pods') counters.podWrites += value;
      if (labels['kind'] === 'nodes') counters.nodeWrites += value;
    }
  }
  return counters;
}

/** a − b, counter by counter. */
export function minus(a: WatcherCounters, b: WatcherCounters): WatcherCounters {
  return {
    events: a.events - b.events,
    podEvents: a.podEvents - b.podEvents,
    podWrites: a.podWrites - b.podWrites,
    nodeWrites: a.nodeWrites - b.nodeWrites,
  };
}
