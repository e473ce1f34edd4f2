/**
 * Watcher ingest, the simulator out of the measurement: a Pod watch stream recorded
 * from kube-sim under churn (bytes as sent) is replayed to a real watcher process
 * from memory, as fast as it reads (`harness/replay-api-server.ts`). Ours: watch
 * events/s from the first byte until Redis holds the counts the stream ends with.
 * Beside it, in the same run: the Redis ceiling of the watcher's write (the exact
 * EVALSHA, redis-benchmark, as in `throughput`) and the cost of decoding the stream
 * alone (JSON.parse of each line in this process): what bounds ingest on each side.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Keyspace, toClusterName } from '@knm/contracts';
import { sleep, spawnTestWatcher, type ManagedProcess } from '@knm/testing';
import { benchNamespace, deleteNamespace, startSimProcess, stopAll } from '../harness/processes.js';
import { meanPodDeltas, redisWriteCeiling } from '../harness/redis-ceiling.js';
import { ReplayApiServer } from '../harness/replay-api-server.js';
import { compare, round, summarize } from '../harness/stats.js';
import type { BenchContext, Figure, Scenario, ScenarioResult } from '../harness/types.js';
import { recordWatch, type WatchRecording } from '../harness/watch-recording.js';
import { minus, watcherCounters } from './realtime-system.js';

const CLUSTER = 'ingest';
const POLL_MS = 25;

/** One replay: a fresh watcher and namespace; events/s from the first byte to Redis equal to the stream's end. */
interface Replay {
  eventsPerSecond: number;
  elapsedMs: number;
  /** ms the replay server took to hand the whole stream to the socket (the reader's pace). */
  writeMs: number;
  podWrites: number;
  deltasPerWrite: number;
  namespace: string;
}

function kubeconfig(server: string): string {
  return `apiVersion: v1
kind: Config
clusters: [{name: replay, cluster: {server: "${server}"}}]
users: [{name: replay, user: {token: replay}}]
contexts: [{name: replay, context: {cluster: replay, user: replay}}]
current-context: replay
`;
}

async function replayOnce(
  ctx: BenchContext,
  recording: WatchRecording,
  dir: string,
  keep: boolean,
): Promise<Replay> {
  const replay = await ReplayApiServer.start(recording);
  const namespace = benchNamespace();
  const kubeconfigPath = join(dir, 'replay.kubeconfig');
  await writeFile(kubeconfigPath, kubeconfig(replay.url));
  const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 2 });
  const profileDir = process.env['KNM_BENCH_CPU_PROF_DIR'];
  let watcher: ManagedProcess | undefined;
  try {
    watcher = spawnTestWatcher({
      cluster: CLUSTER,
      kubeconfigPath,
      redis: { url: ctx.redisUrl, namespace },
      args: [
        '--initial-sync',
        'list',
        '--metrics-interval',
        '0',
        '--lease-ttl-ms',
        '15000',
        '--heartbeat-ms',
        '2000',
        '--log-level',
        'info',
      ],
      ...(profileDir ? { env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } } : {}),
    });
    await watcher.waitForOutput(/"msg":"watcher ready"/, 600_000);
    const [, port] = await watcher.waitForOutput(/"port":(\d+)[^\n]*"msg":"metrics listening"/, 30_000);
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    await replay.podWatchOpened();
    const before = await watcherCounters(metricsUrl);
    const pods = new Keyspace(namespace).cluster(toClusterName(CLUSTER)).pods;
    const expected = JSON.stringify(sorted(recording.finalCounts));
    replay.release();
    let done: number | undefined;
    const deadline = performance.now() + 300_000;
    while (done === undefined) {
      if (performance.now() > deadline)
        throw new Error('the watcher did not reach the stream end within 5 minutes');
      await sleep(POLL_MS);
      const read = minus(await watcherCounters(metricsUrl), before);
      if (read.podEvents < recording.podEvents) continue;
      const stored = Object.fromEntries(
        Object.entries(await redis.hgetall(pods)).map(([n, c]) => [n, Number(c)]),
      );
      if (JSON.stringify(sorted(stored)) === expected) done = performance.now();
    }
    const started = replay.startedAt ?? done;
    const counters = minus(await watcherCounters(metricsUrl), before);
    const elapsedMs = done - started;
    return {
      eventsPerSecond: recording.podEvents / (elapsedMs / 1_000),
      elapsedMs,
      writeMs: (replay.writtenAt ?? done) - started,
      podWrites: counters.podWrites,
      deltasPerWrite: await meanPodDeltas(redis, namespace, CLUSTER),
      namespace,
    };
  } finally {
    await stopAll([watcher]);
    await replay.close();
    redis.disconnect();
    if (!keep) await deleteNamespace(ctx.redisUrl, namespace);
  }
}

function sorted(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts)
    .filter(([, c]) => c > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Events/s of JSON.parse over the recorded lines in this process: decoding alone, nothing kept. */
function decodeRate(recording: WatchRecording): number {
  const lines = recording.podWatch.toString('utf8').split('\n');
  const started = performance.now();
  let events = 0;
  for (const line of lines) if (line !== '' && JSON.parse(line) !== null) events += 1;
  return events / ((performance.now() - started) / 1_000);
}

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const rate = ctx.quick ? 1_000 : 8_000;
  const seconds = ctx.quick ? 2 : 10;
  // Quick proves the path on a small cluster: the recording, not the cluster's size, is what a replay measures.
  const scale = ctx.quick ? { nodes: 100, pods: 3_000 } : ctx.scale;
  const dir = await mkdtemp(join(tmpdir(), 'knm-bench-ingest-'));
  let recording: WatchRecording;
  const sim = await startSimProcess({
    nodes: scale.nodes,
    pods: scale.pods,
    kubeconfigPath: join(dir, 'sim.kubeconfig'),
  });
  try {
    recording = await recordWatch({
      url: sim.url,
      token: sim.token,
      churn: async (r) => {
        const res = await fetch(`${sim.url}/_sim/churn`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ rate: r }),
        });
        if (!res.ok) throw new Error(`POST /_sim/churn: HTTP ${res.status}`);
        await res.arrayBuffer();
      },
      rate,
      seconds,
      pageSize: 500,
    });
  } finally {
    await stopAll([sim.proc]);
  }
  ctx.log(
    `ingest: recorded ${recording.podEvents} pod events (${round(recording.podWatch.length / 2 ** 20, 1)} MiB) at churn ${rate}/s for ${seconds} s`,
  );
  const replays: Replay[] = [];
  const decode: number[] = [];
  const ceiling: number[] = [];
  try {
    for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
      const last = i === ctx.warmup + ctx.runs - 1;
      const r = await replayOnce(ctx, recording, dir, last);
      if (i >= ctx.warmup) replays.push(r);
      ctx.log(
        `ingest: ${i < ctx.warmup ? 'warm-up' : `run ${i - ctx.warmup + 1}`}: ${Math.round(r.eventsPerSecond)} events/s (${round(r.elapsedMs, 0)} ms; stream written in ${round(r.writeMs, 0)} ms)`,
      );
      if (last) {
        // The ceiling needs the last run's mean deltas per write; its namespace goes after.
        await deleteNamespace(ctx.redisUrl, r.namespace);
      }
    }
    for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
      const value = decodeRate(recording);
      if (i >= ctx.warmup) decode.push(value);
    }
    const lastReplay = replays.at(-1) as Replay;
    const eventsPerWrite = recording.podEvents / Math.max(1, lastReplay.podWrites);
    ceiling.push(...(await redisWriteCeiling(ctx, lastReplay.deltasPerWrite, eventsPerWrite)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const ours = summarize(
    'events/s',
    replays.map((r) => r.eventsPerSecond),
  );
  const figures: Figure[] = [
    {
      metric: 'recorded stream',
      labels: { events: recording.podEvents, 'churn asked (events/s)': rate },
      value: summarize('MiB', [recording.podWatch.length / 2 ** 20]),
    },
    {
      metric: 'replay: first byte to Redis equal to the stream end',
      labels: {},
      value: summarize(
        'ms',
        replays.map((r) => r.elapsedMs),
      ),
    },
    {
      metric: 'watch events per Redis write (batching)',
      labels: {},
      value: summarize(
        'events/write',
        replays.map((r) => recording.podEvents / Math.max(1, r.podWrites)),
      ),
    },
  ];
  return {
    scenario: 'ingest',
    title: 'Watcher ingest alone: a recorded watch stream replayed from memory',
    params: {
      nodes: scale.nodes,
      pods: scale.pods,
      recordedEvents: recording.podEvents,
      runs: ctx.runs,
    },
    comparisons: [
      compare(
        'ingest (events/s)',
        'higher',
        ours,
        'redis-benchmark, same EVALSHA (ceiling)',
        summarize('events/s', ceiling),
      ),
      compare(
        'ingest (events/s)',
        'higher',
        ours,
        'JSON.parse of each line alone (decode ceiling)',
        summarize('events/s', decode),
      ),
    ],
    figures,
    charts: [],
    notes: [
      `kube-sim (${scale.nodes} nodes, ${scale.pods} pods) churned at ${rate}/s for ${seconds} s while its Pod watch was recorded bytes as sent (${recording.podEvents} events), until a quiet second. Each run starts a fresh watcher (\`--initial-sync list\`) against a replay server in the bench process that serves the recorded lists and, once the watcher is ready, writes the recorded watch as fast as the socket takes it. Events/s = recorded events / (first byte written -> the watcher's event counter has every event and Redis's pods hash equals the counts the stream ends with, polled every ${POLL_MS} ms).`,
      `Ceilings from the same run: Redis executing the exact EVALSHA of the watcher's pod-count write with the mean node deltas of the last run's writes, times its events per write (as in \`throughput\`); and JSON.parse of every recorded line in the bench process, nothing kept: decoding alone. The watcher also builds pod records, keeps the index and allocation, and writes; it shares the machine's two cores with Redis and the replay server.`,
      'Set KNM_BENCH_CPU_PROF_DIR to have every replayed watcher write a V8 CPU profile there (what the report says bounds ingest comes from one).',
    ],
  };
}

export const ingestScenario: Scenario = {
  name: 'ingest',
  title: 'Watcher ingest alone: a recorded watch stream replayed from memory',
  run,
};
