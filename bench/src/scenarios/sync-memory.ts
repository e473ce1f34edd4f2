import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson } from '../harness/http.js';
import {
  benchNamespace,
  deleteNamespace,
  nextJsonLine,
  spawnBenchScript,
  startSimProcess,
} from '../harness/processes.js';
import { compare, summarize } from '../harness/stats.js';
import type { BenchContext, ChartSpec, Comparison, Scenario, ScenarioResult } from '../harness/types.js';

const BASELINE = 'client-node-informer';
/** The same WatchList streams read to their end undecoded: what kube-sim and the socket take. */
const CEILING = { client: 'kube-sim-stream', label: 'kube-sim WatchList streams read undecoded (ceiling)' };
const OURS = [
  {
    client: 'knm-watcher',
    short: 'knm watcher',
    label: 'knm watcher (reflectors + pod index with allocation + node cache + Redis)',
  },
  {
    client: 'knm-reflector-watch-list',
    short: 'knm WatchList reflector',
    label: 'knm WatchList reflector + pod index with allocation',
  },
] as const;

interface Synced {
  syncMs: number;
  pods: number;
  heapBytesPerPod: number;
  rssBytes: number;
  /** knm's pod index: its own estimate of its bytes per pod it counts. */
  indexBytesPerPod: number | undefined;
}

/**
 * Initial sync (list to ready) and the memory a pod costs: knm's full watcher (ready
 * = every node and pod count written to Redis in one swap) and its WatchList
 * reflector, vs client-node's stock `makeInformer` holding full pod objects. Every
 * client is a fresh process per run (its heap and RSS are its own) against one
 * kube-sim in another process. Beside them, the ceiling: the same two WatchList
 * streams read to their initial-events-end bookmark and discarded undecoded (kube-sim's
 * encoding and the socket: the part no client of the stream can beat).
 */
export const syncMemoryScenario: Scenario = {
  name: 'sync-memory',
  title: 'Initial sync and watcher memory',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    // A fresh process per run is already cold; the warm-up (full runs only) warms kube-sim.
    const runs = ctx.quick ? 1 : ctx.runs;
    const warmup = ctx.quick ? 0 : Math.min(1, ctx.warmup);
    const dir = await mkdtemp(join(tmpdir(), 'knm-bench-sync-'));
    const namespace = benchNamespace();
    const sim = await startSimProcess({ ...ctx.scale, kubeconfigPath: join(dir, 'sim.kubeconfig') });
    ctx.log(`kube-sim ${ctx.scale.nodes} nodes / ${ctx.scale.pods} pods up in ${sim.startMs} ms`);
    try {
      // The world generator may place a pod fewer than asked: divide by what the cluster holds.
      const first = await getJson<{ items: unknown[]; metadata: { remainingItemCount?: number } }>(
        `${sim.url}/api/v1/pods?limit=1`,
        { authorization: `Bearer ${sim.token}` },
      );
      const clusterPods = first.items.length + (first.metadata.remainingItemCount ?? 0);
      const syncOnce = async (client: string): Promise<Synced> => {
        const proc = spawnBenchScript(client, 'scenarios/sync-memory-client.ts', [
          client,
          sim.kubeconfigPath,
          ctx.redisUrl,
          namespace,
        ]);
        try {
          const line = await nextJsonLine(proc, 'synced', 1_800_000);
          // Per pod of the cluster watched, for every client alike (knm's index keeps only the
          // pods that count: scheduled and not terminated; the informer keeps them all).
          const synced = {
            syncMs: Number(line['syncMs']),
            pods: Number(line['pods']),
            heapBytesPerPod: Number(line['heapBytes']) / clusterPods,
            rssBytes: Number(line['rssBytes']),
            indexBytesPerPod:
              typeof line['indexBytesPerPod'] === 'number' ? line['indexBytesPerPod'] : undefined,
          };
          if (synced.pods <= 0 || synced.pods > clusterPods)
            throw new Error(`${client} holds ${synced.pods} pods, kube-sim has ${clusterPods}`);
          // CPU time and milestones: where the time went, readable even when the machine is loaded.
          ctx.log(
            `${client}: ${synced.pods} pods in ${synced.syncMs} ms (CPU ${String(line['cpuMs'])} ms), ${Math.round(synced.heapBytesPerPod)} heap B/pod, RSS ${Math.round(synced.rssBytes / 2 ** 20)} MiB ${JSON.stringify(line['phases'] ?? {})}`,
          );
          return synced;
        } finally {
          await proc.stop();
          await deleteNamespace(ctx.redisUrl, namespace);
        }
      };
      const clients = [BASELINE, CEILING.client, ...OURS.map((o) => o.client)];
      const samples = new Map<string, Synced[]>(clients.map((c) => [c, []]));
      for (let i = 0; i < warmup; i++) for (const c of clients) await syncOnce(c);
      // Interleaved, so that a change of load during the scenario hits every client alike.
      for (let i = 0; i < runs; i++) for (const c of clients) samples.get(c)?.push(await syncOnce(c));

      const of = (client: string, pick: (s: Synced) => number, unit: string) =>
        summarize(unit, (samples.get(client) ?? []).map(pick));
      const comparisons: Comparison[] = [];
      for (const { client, label } of OURS) {
        comparisons.push(
          compare(
            `initial sync, ${label}`,
            'lower',
            of(client, (s) => s.syncMs, 'ms'),
            BASELINE,
            of(BASELINE, (s) => s.syncMs, 'ms'),
          ),
          compare(
            `initial sync, ${label}`,
            'lower',
            of(client, (s) => s.syncMs, 'ms'),
            CEILING.label,
            of(CEILING.client, (s) => s.syncMs, 'ms'),
          ),
          compare(
            `heap bytes per pod, ${label}`,
            'lower',
            of(client, (s) => s.heapBytesPerPod, 'bytes'),
            BASELINE,
            of(BASELINE, (s) => s.heapBytesPerPod, 'bytes'),
          ),
          compare(
            `RSS, ${label}`,
            'lower',
            of(client, (s) => s.rssBytes, 'bytes'),
            BASELINE,
            of(BASELINE, (s) => s.rssBytes, 'bytes'),
          ),
        );
      }
      const chart = (
        id: string,
        title: string,
        yLabel: string,
        pick: (s: Synced) => number,
        withCeiling: boolean,
      ): ChartSpec => ({
        id,
        title,
        kind: 'bar',
        xLabel: 'client',
        yLabel,
        series: [
          {
            name: 'median',
            points: [
              ...OURS,
              { client: BASELINE, short: 'client-node makeInformer' },
              ...(withCeiling ? [{ client: CEILING.client, short: 'stream read undecoded (ceiling)' }] : []),
            ].map((o) => ({
              x: o.short,
              y: of(o.client, pick, yLabel).median,
            })),
          },
        ],
      });
      return {
        scenario: 'sync-memory',
        title: this.title,
        params: { nodes: ctx.scale.nodes, pods: clusterPods, runs, warmup, simStartMs: sim.startMs },
        comparisons,
        figures: OURS.map((o) => ({
          metric: 'pod index bytes per counted pod (its own estimate)',
          labels: { client: o.short },
          value: of(o.client, (s) => s.indexBytesPerPod ?? Number.NaN, 'bytes'),
        })),
        charts: [
          chart(
            'sync-memory-sync',
            `Initial sync of ${clusterPods.toLocaleString('en-US')} pods`,
            'ms',
            (s) => s.syncMs,
            true,
          ),
          chart('sync-memory-heap', 'Heap bytes per pod', 'bytes', (s) => s.heapBytesPerPod, false),
        ],
        notes: [
          'Each client runs in a fresh process per run; kube-sim runs in another process. Clients run in turn (interleaved per run), never at once.',
          'Initial sync: from the start of the list until ready (the full watcher: every node, pod count and allocation written to Redis in one swap; the others: their store holds every pod).',
          'Heap per pod: V8 heap used + array buffers after a forced full GC, minus the same figure before the client started, divided by the pods of the cluster (knm’s pod index holds only the scheduled, non-terminated pods it counts, with their requests and limits as shared profiles and the per-node sums; the informer holds every pod). RSS is the whole process (Node, tsx and modules included).',
          `Baseline: @kubernetes/client-node's makeInformer on /api/v1/pods, which keeps every full V1Pod.`,
          'Ceiling: the nodes and pods WatchList streams the watcher opens, read at once with node:http to the initial-events-end bookmark and discarded undecoded (ADDED frames counted by byte search): kube-sim encoding and the socket, on the same cores. Its heap and RSS figures mean nothing and are not reported.',
        ],
      };
    } finally {
      await sim.proc.stop();
      await rm(dir, { recursive: true, force: true });
      await deleteNamespace(ctx.redisUrl, namespace);
    }
  },
};
