import { mkdtemp, rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeListResponse, PodCountsResponse } from '@knm/contracts';
import { spawnTestWatcher, type ManagedProcess } from '@knm/testing';
import { startGateways, type Gateways } from '../harness/gateways.js';
import { getJson, getRaw, type RawAnswer } from '../harness/http.js';
import {
  benchNamespace,
  deleteNamespace,
  startSimProcess,
  stopAll,
  type SimProcess,
} from '../harness/processes.js';
import { compare, measure, timeMs } from '../harness/stats.js';
import type { BenchContext, Figure, Scenario, ScenarioResult } from '../harness/types.js';

/** The original design's page size for its full recount. */
const PAGE_LIMIT = 1000;

interface PodPage {
  items: { spec?: { nodeName?: string }; status?: { phase?: string } }[];
  metadata: { continue?: string };
}

/**
 * The original "before" path of the pod counts query: page through every pod of the
 * cluster (`limit=1000`) and count the non-terminated ones (not Succeeded, not
 * Failed) of each node. Returns the counts and the pages read.
 */
export async function recountPods(
  sim: Pick<SimProcess, 'url' | 'token'>,
): Promise<{ counts: Map<string, number>; total: number; pages: number }> {
  const counts = new Map<string, number>();
  let total = 0;
  let pages = 0;
  let cont: string | undefined;
  do {
    const params = new URLSearchParams({ limit: String(PAGE_LIMIT) });
    if (cont) params.set('continue', cont);
    const page = await getJson<PodPage>(`${sim.url}/api/v1/pods?${params.toString()}`, {
      authorization: `Bearer ${sim.token}`,
    });
    pages += 1;
    for (const pod of page.items) {
      const node = pod.spec?.nodeName;
      const phase = pod.status?.phase;
      if (!node || phase === 'Succeeded' || phase === 'Failed') continue;
      counts.set(node, (counts.get(node) ?? 0) + 1);
      total += 1;
    }
    cont = page.metadata.continue || undefined;
  } while (cont);
  return { counts, total, pages };
}

/** `getRaw`, throwing unless the status is `status`. */
async function rawExpecting(
  url: string,
  headers: Record<string, string>,
  status: number,
): Promise<RawAnswer> {
  const answer = await getRaw(url, headers);
  if (answer.status !== status) throw new Error(`GET ${url}: HTTP ${answer.status}, expected ${status}`);
  return answer;
}

/**
 * The two queries the original design served from the Kubernetes API, against knm
 * serving them from Redis: every node's pod count (gateway vs the paged recount of
 * every pod) and the node list (gateway vs a direct `GET /api/v1/nodes`). kube-sim,
 * the watcher and the gateway each run in their own process; the client (this
 * process) times one request (or one full recount) per run.
 */
export const queriesScenario: Scenario = {
  name: 'queries',
  title: 'Pod counts and node list: Redis-backed gateway vs the Kubernetes API',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const dir = await mkdtemp(join(tmpdir(), 'knm-bench-queries-'));
    const namespace = benchNamespace();
    let sim: SimProcess | undefined;
    let watcher: ManagedProcess | undefined;
    let gateways: Gateways | undefined;
    const gatewayStart = startGateways(1, ctx.redisUrl, namespace).then((g) => (gateways = g));
    gatewayStart.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    try {
      sim = await startSimProcess({ ...ctx.scale, kubeconfigPath: join(dir, 'sim.kubeconfig') });
      watcher = spawnTestWatcher({
        cluster: 'bench',
        kubeconfigPath: sim.kubeconfigPath,
        redis: { url: ctx.redisUrl, namespace },
        name: 'watcher-bench',
      });
      await watcher.waitForOutput(/"msg":"watcher ready"/, 600_000);
      ctx.log(`kube-sim (started in ${sim.startMs} ms), watcher and gateway ready`);
      const { urls, headers } = await gatewayStart;
      const gw = urls[0] as string;
      const simHeaders = { authorization: `Bearer ${sim.token}` };
      const liveSim = sim;

      // The answers must agree before their speed means anything.
      const ours = await getJson<PodCountsResponse>(`${gw}/api/v1/clusters/bench/pod-counts`, headers);
      const recount = await recountPods(liveSim);
      const disagreeing = [...new Set([...recount.counts.keys(), ...Object.keys(ours.counts)])].filter(
        (n) => (ours.counts[n] ?? 0) !== (recount.counts.get(n) ?? 0),
      );
      if (disagreeing.length > 0)
        throw new Error(
          `pod counts differ on ${disagreeing.length} nodes (e.g. ${disagreeing[0]}): gateway total ${ours.total}, recount ${recount.total}`,
        );
      const nodes = await getJson<NodeListResponse>(`${gw}/api/v1/clusters/bench/nodes`, headers);
      if (nodes.items.length !== ctx.scale.nodes)
        throw new Error(`the gateway lists ${nodes.items.length} nodes, kube-sim has ${ctx.scale.nodes}`);

      const podCountsOurs = await measure(Math.max(ctx.runs, 5), ctx.warmup, 'ms', () =>
        timeMs(() => getJson(`${gw}/api/v1/clusters/bench/pod-counts`, headers)),
      );
      const podCountsBaseline = await measure(ctx.runs, ctx.warmup, 'ms', () =>
        timeMs(() => recountPods(liveSim)),
      );
      const nodeListOurs = await measure(Math.max(ctx.runs, 5), ctx.warmup, 'ms', () =>
        timeMs(() => getJson(`${gw}/api/v1/clusters/bench/nodes`, headers)),
      );
      const nodeListBaseline = await measure(Math.max(ctx.runs, 5), ctx.warmup, 'ms', () =>
        timeMs(() => getJson(`${liveSim.url}/api/v1/nodes`, simHeaders)),
      );
      // What the server and the wire cost, apart from the client's JSON.parse of ~10 MB: to the last byte.
      const listUrl = `${gw}/api/v1/clusters/bench/nodes`;
      // A large list is compressed behind (the first answers at a seq go in identity), and the
      // watcher's metrics polls move the seq now and then: ask until the answer is in the coding asked.
      const bytesOf = async (extra: Record<string, string>): Promise<RawAnswer> => {
        const coding = extra['accept-encoding'] ?? 'identity';
        for (let attempt = 0; attempt < 100; attempt++) {
          const answer = await rawExpecting(listUrl, { ...headers, ...extra }, 200);
          if ((answer.headers['content-encoding'] ?? 'identity') === coding) return answer;
          await delay(50);
        }
        throw new Error(`${listUrl}: never answered in ${coding}`);
      };
      const raw = (extra: Record<string, string>) =>
        measure(Math.max(ctx.runs, 5), ctx.warmup, 'ms', async () => (await bytesOf(extra)).ms);
      const identity = await bytesOf({ 'accept-encoding': 'identity' });
      const gzip = await bytesOf({ 'accept-encoding': 'gzip' });
      const br = await bytesOf({ 'accept-encoding': 'br' });
      const apiList = await rawExpecting(`${liveSim.url}/api/v1/nodes`, simHeaders, 200);
      const listRawOurs = await raw({ 'accept-encoding': 'identity' });
      const listRawApi = await measure(Math.max(ctx.runs, 5), ctx.warmup, 'ms', async () => {
        const answer = await rawExpecting(`${liveSim.url}/api/v1/nodes`, simHeaders, 200);
        return answer.ms;
      });
      const listGzip = await raw({ 'accept-encoding': 'gzip' });
      const listBr = await raw({ 'accept-encoding': 'br' });
      // The watcher's metrics polls move the seq now and then: each run revalidates the tag it just got.
      const listRevalidated = await measure(Math.max(ctx.runs, 5), ctx.warmup, 'ms', async () => {
        for (let attempt = 0; ; attempt++) {
          const tag = String((await bytesOf({ 'accept-encoding': 'identity' })).headers.etag);
          const answer = await getRaw(listUrl, {
            ...headers,
            'accept-encoding': 'identity',
            'if-none-match': tag,
          });
          if (answer.status === 304) return answer.ms;
          if (attempt === 2 || answer.status !== 200)
            throw new Error(`GET ${listUrl} with its own ETag: HTTP ${answer.status}, expected 304`);
        }
      });
      const nodesLabel = `${ctx.scale.nodes.toLocaleString('en-US')} nodes`;
      const bytesFigure = (coding: string, answer: RawAnswer): Figure => ({
        metric: 'node list bytes on the wire',
        labels: { coding, nodes: ctx.scale.nodes },
        value: {
          unit: 'bytes',
          runs: [answer.bytes],
          median: answer.bytes,
          min: answer.bytes,
          max: answer.bytes,
        },
      });
      const figures: Figure[] = [
        bytesFigure('identity', identity),
        bytesFigure('gzip', gzip),
        bytesFigure('br', br),
        bytesFigure('the API’s list (identity)', apiList),
        {
          metric: 'node list, to the last byte',
          labels: { coding: 'gzip', nodes: ctx.scale.nodes },
          value: listGzip,
        },
        {
          metric: 'node list, to the last byte',
          labels: { coding: 'br', nodes: ctx.scale.nodes },
          value: listBr,
        },
      ];
      ctx.log(
        `node list bytes: identity ${identity.bytes}, gzip ${gzip.bytes}, br ${br.bytes}; the API's ${apiList.bytes}`,
      );
      const comparisons = [
        compare(
          `pod counts of every node (${ctx.scale.pods.toLocaleString('en-US')} pods)`,
          'lower',
          podCountsOurs,
          `paged recount of every pod from the API (limit=${PAGE_LIMIT}, ${recount.pages} pages)`,
          podCountsBaseline,
        ),
        compare(
          `node list (${ctx.scale.nodes.toLocaleString('en-US')} nodes)`,
          'lower',
          nodeListOurs,
          'GET /api/v1/nodes from the API',
          nodeListBaseline,
        ),
        compare(
          `node list (${nodesLabel}), to the last byte, not parsed`,
          'lower',
          listRawOurs,
          'GET /api/v1/nodes from the API, to the last byte, not parsed',
          listRawApi,
        ),
        compare(
          `node list (${nodesLabel}), revalidated: If-None-Match -> 304`,
          'lower',
          listRevalidated,
          'the same list sent in full (identity, to the last byte)',
          listRawOurs,
        ),
        compare(
          `node list (${nodesLabel}), br, to the last byte`,
          'lower',
          listBr,
          'GET /api/v1/nodes from the API, to the last byte, not parsed',
          listRawApi,
        ),
        compare(
          `node list (${nodesLabel}), gzip, to the last byte`,
          'lower',
          listGzip,
          'GET /api/v1/nodes from the API, to the last byte, not parsed',
          listRawApi,
        ),
      ];
      return {
        scenario: 'queries',
        title: this.title,
        params: {
          nodes: ctx.scale.nodes,
          pods: ctx.scale.pods,
          runs: ctx.runs,
          warmup: ctx.warmup,
          pagesPerRecount: recount.pages,
          countsAgree: true,
        },
        comparisons,
        figures,
        charts: [
          {
            id: 'queries-latency',
            title: 'Query latency, median',
            kind: 'bar',
            xLabel: 'query',
            yLabel: 'ms',
            series: [
              {
                name: 'knm gateway (Redis)',
                points: [
                  { x: 'pod counts', y: podCountsOurs.median },
                  { x: 'node list', y: nodeListOurs.median },
                ],
              },
              {
                name: 'Kubernetes API (kube-sim)',
                points: [
                  { x: 'pod counts', y: podCountsBaseline.median },
                  { x: 'node list', y: nodeListBaseline.median },
                ],
              },
            ],
          },
        ],
        notes: [
          'One run = one request (ours, the node list) or one full recount (every page fetched and parsed, non-terminated pods counted per node), timed by the client over HTTP with keep-alive.',
          'Before measuring, the gateway’s counts were checked equal, node by node, to the recount.',
          '"to the last byte, not parsed": one GET over a keep-alive connection (node:http), timed from the request to the last byte of the body as sent (not decompressed, not parsed): the server and the wire, apart from the client’s JSON.parse, which the first two comparisons include on both sides. Coded bodies are compressed once per seq and cached (a list of 256 KiB or more is compressed behind: the first requests at a new seq get identity; the warming request before the runs makes them coded); the revalidation sends the identity body’s ETag and gets a 304 with no body.',
          'kube-sim’s pods are leaner than a real cluster’s (~2.2 KB of JSON each, the original design measured ~50 KB on real clusters) and it has no etcd behind it: the baseline is a floor for the real API server.',
        ],
      };
    } finally {
      await stopAll([watcher, sim?.proc]);
      await gatewayStart.catch(() => undefined);
      await (gateways as Gateways | undefined)?.stop();
      await rm(dir, { recursive: true, force: true });
      await deleteNamespace(ctx.redisUrl, namespace);
    }
  },
};
