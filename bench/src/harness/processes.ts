import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keyspace, toClusterName } from '@knm/contracts';
import { NodeStoreWriter } from '@knm/node-store';
import { deleteNamespaceKeys, spawnProcess, typeScriptNodeArgs, type ManagedProcess } from '@knm/testing';

/**
 * Child processes of the benchmark: a bench TypeScript file run from source that
 * reports JSON lines on stdout, kube-sim in its own process; and the
 * throw-away Redis namespaces every scenario writes under.
 */

/** Starts `bench/src/<file>` from source with a large heap (stock informers hold every full pod). */
export function spawnBenchScript(name: string, file: string, args: readonly string[]): ManagedProcess {
  return spawnProcess({
    name,
    args: ['--max-old-space-size=16384', ...typeScriptNodeArgs(`bench/src/${file}`), ...args],
  });
}

/**
 * The first JSON line of `proc`'s output (from `fromOffset`) whose text contains
 * `"event":"<event>"` (or, with `event` undefined, any JSON object line), parsed.
 * Rejects with the output's tail when the process exits first or after `timeoutMs`.
 */
export async function nextJsonLine(
  proc: ManagedProcess,
  event: string,
  timeoutMs: number,
  fromOffset = 0,
): Promise<Record<string, unknown>> {
  const pattern = new RegExp(`^(\\{"event":"${event}".*\\})$`, 'm');
  const match = await proc.waitForOutput(pattern, timeoutMs, fromOffset);
  return JSON.parse(match[1] as string) as Record<string, unknown>;
}

/** A kube-sim running in its own process (see sim-process.ts). */
export interface SimProcess {
  url: string;
  token: string;
  kubeconfigPath: string;
  /** World generation + load + listen, ms. */
  startMs: number;
  proc: ManagedProcess;
}

/** What {@link startSimProcess} asks kube-sim for. */
export interface SimProcessOptions {
  nodes: number;
  pods: number;
  kubeconfigPath: string;
  /** Seconds between two heartbeats of one node. Default 0 (off). */
  heartbeatSeconds?: number;
}

/**
 * Starts kube-sim in its own process (seed 1, no churn, Job pods that do not finish
 * within a benchmark), so that its heap and CPU are apart from the clients measured
 * against it. Waits until it listens (a 150,000-pod world takes seconds to build).
 */
export async function startSimProcess(options: SimProcessOptions): Promise<SimProcess> {
  const proc = spawnBenchScript('kube-sim', 'harness/sim-process.ts', [JSON.stringify(options)]);
  try {
    const ready = await nextJsonLine(proc, 'sim-ready', 600_000);
    return {
      url: String(ready['url']),
      token: String(ready['token']),
      kubeconfigPath: options.kubeconfigPath,
      startMs: Number(ready['startMs']),
      proc,
    };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

/** Stops every process given (SIGTERM, then SIGKILL after 10 s), in parallel. */
export async function stopAll(procs: readonly (ManagedProcess | undefined)[]): Promise<void> {
  await Promise.all(procs.map((p) => p?.stop()));
}

/** A fresh Redis key namespace for one scenario run (`knmbench-<hex>`). */
export function benchNamespace(): string {
  return `knmbench-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `namespace:` (and nothing else) from the Redis at `redisUrl`. */
export async function deleteNamespace(redisUrl: string, namespace: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    await deleteNamespaceKeys(redis, namespace);
  } finally {
    redis.disconnect();
  }
}

/**
 * The real writer of `cluster` under `namespace` of `redis`, holding a fresh fencing
 * epoch (as a watcher's term would): for scenarios that write without a watcher.
 */
export async function benchWriter(
  redis: Redis,
  namespace: string,
  cluster = toClusterName('bench'),
): Promise<NodeStoreWriter> {
  const keyspace = new Keyspace(namespace);
  const epoch = await redis.incr(keyspace.cluster(cluster).epoch);
  return new NodeStoreWriter(redis, keyspace, cluster, epoch, 'bench');
}
