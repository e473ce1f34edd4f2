import { NodeListQuerySchema } from '@knm/contracts';
import { compileNodeQuery, queryNodes } from '@knm/node-query';
import type { ManagedProcess } from '@knm/testing';
import { CONNECTIONS, measureEndpoints, type Endpoint } from '../harness/autocannon-load.js';
import { startGateways, type Gateways } from '../harness/gateways.js';
import { getRaw } from '../harness/http.js';
import {
  benchNamespace,
  deleteNamespace,
  nextJsonLine,
  spawnBenchScript,
  stopAll,
} from '../harness/processes.js';
import { compare, summarize } from '../harness/stats.js';
import type {
  BenchContext,
  Comparison,
  Figure,
  Measurement,
  Scenario,
  ScenarioResult,
} from '../harness/types.js';
import { seedCluster, syntheticCluster, type SyntheticCluster } from './synthetic-cluster.js';

/** Gateway processes loaded at once (autocannon spreads its connections over them round-robin). */
const GATEWAYS = 2;

/**
 * What one page costs the gateway the first time at a seq (before its body is
 * cached): `queryNodes` over the whole cluster, then JSON of the page, in process;
 * each sample after 3 unmeasured.
 */
function uncachedPageMs(cluster: SyntheticCluster, query: Record<string, string>, samples: number): number[] {
  const compiled = compileNodeQuery(NodeListQuerySchema.parse(query), 'bench');
  const once = (): number => {
    const started = performance.now();
    JSON.stringify(queryNodes(cluster, compiled));
    return performance.now() - started;
  };
  for (let i = 0; i < 3; i++) once();
  return Array.from({ length: samples }, once);
}

/** The requests/s measured for `name`. */
function measured(throughput: Map<string, Measurement>, name: string): Measurement {
  const value = throughput.get(name);
  if (!value) throw new Error(`no requests/s measured for ${name}`);
  return value;
}

/**
 * Plain Fastify servers (`rest-bare-server.ts`), as many as the gateways, answering
 * the gateway's bytes of `paths` from memory: the ceiling of a route that answers the
 * same bytes with nothing else to do. Their base URLs.
 */
async function startBareServers(
  count: number,
  gateway: string,
  headers: Record<string, string>,
  paths: string[],
  procs: ManagedProcess[],
): Promise<string[]> {
  const started = Array.from({ length: count }, (_, i) =>
    spawnBenchScript(`bare-fastify-${i + 1}`, 'scenarios/rest-bare-server.ts', [
      JSON.stringify({ gateway, headers, paths }),
    ]),
  );
  procs.push(...started);
  return Promise.all(
    started.map(
      async (p) => `http://127.0.0.1:${String((await nextJsonLine(p, 'bare-ready', 60_000))['port'])}`,
    ),
  );
}

/**
 * REST latency and throughput of two gateway processes sharing one Redis, loaded at
 * once: one node, a filtered sorted page, every pod count of the cluster, pages,
 * the rollup, and revalidations (304); one node, the filtered page and the pod
 * counts beside their ceiling, as many plain Fastify processes answering the same
 * bytes from memory, loaded the same way in the same run.
 */
export const restScenario: Scenario = {
  name: 'rest',
  title: 'REST latency and throughput (two gateways)',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const namespace = benchNamespace();
    const seconds = ctx.quick ? 1 : 5;
    let gateways: Gateways | undefined;
    const bare: ManagedProcess[] = [];
    try {
      const cluster = syntheticCluster(ctx.scale.nodes, ctx.scale.pods);
      await seedCluster(ctx.redisUrl, namespace, 'bench', cluster);
      ctx.log(`${ctx.scale.nodes} nodes written to Redis`);
      gateways = await startGateways(GATEWAYS, ctx.redisUrl, namespace);
      ctx.log(`${GATEWAYS} gateways listening`);
      const { urls, headers } = gateways;
      const middle = `node-${String(Math.floor(ctx.scale.nodes / 2)).padStart(5, '0')}`;
      const ceilinged: [string, string][] = [
        ['single node', `/api/v1/clusters/bench/nodes/${middle}`],
        [
          'filtered page (zone-b, ready, by pods desc, 100)',
          `/api/v1/clusters/bench/nodes?labelSelector=${encodeURIComponent('topology.kubernetes.io/zone=zone-b')}&ready=true&sort=pods&order=desc&limit=100`,
        ],
        ['all pod counts', '/api/v1/clusters/bench/pod-counts'],
      ];
      const tagOf = async (path: string): Promise<string> => {
        const answer = await getRaw(`${urls[0]}${path}`, headers);
        const tag = answer.headers.etag;
        if (answer.status !== 200 || !tag) throw new Error(`${path}: HTTP ${answer.status}, no ETag`);
        return tag;
      };
      const nodePath = `/api/v1/clusters/bench/nodes/${middle}`;
      const endpoints: Endpoint[] = [
        ['unsorted page (by name, 100)', '/api/v1/clusters/bench/nodes?limit=100'],
        [
          'sorted by cpu.requestsPercent desc (100)',
          '/api/v1/clusters/bench/nodes?sort=-cpu.requestsPercent&limit=100',
        ],
        ['resources rollup', '/api/v1/clusters/bench/resources'],
        [
          'single node, revalidated (If-None-Match -> 304)',
          nodePath,
          { headers: { 'if-none-match': await tagOf(nodePath) }, status: 304 },
        ],
        [
          `node list of all ${ctx.scale.nodes} nodes, revalidated (304)`,
          '/api/v1/clusters/bench/nodes',
          { headers: { 'if-none-match': await tagOf('/api/v1/clusters/bench/nodes') }, status: 304 },
        ],
      ];
      const figures: Figure[] = [];
      // Under churn every new seq computes the page again: what that costs, apart from the cached answers measured below.
      for (const [name, query] of [
        ['unsorted page (by name, 100)', { limit: '100' }],
        ['sorted by cpu.requestsPercent desc (100)', { sort: '-cpu.requestsPercent', limit: '100' }],
      ] as const) {
        const computed = summarize('ms', uncachedPageMs(cluster, query, Math.max(5, ctx.runs * 5)));
        figures.push({
          metric: 'page computed (uncached, in process)',
          labels: { endpoint: name, nodes: ctx.scale.nodes },
          value: computed,
        });
        ctx.log(`${name}: computed in ${computed.median} ms (query + JSON, uncached, in process, median)`);
      }
      const bareUrls = await startBareServers(
        urls.length,
        urls[0] as string,
        headers,
        ceilinged.map(([, path]) => path),
        bare,
      );
      ctx.log(`${bareUrls.length} bare Fastify servers answering the gateway's bytes`);
      // Each ceilinged endpoint right beside its ceiling, so that both see the same machine.
      const comparisons: Comparison[] = [];
      const rps: { x: string; y: number }[] = [];
      const p50: { x: string; y: number }[] = [];
      const p99: { x: string; y: number }[] = [];
      const ceilingRps: { x: string; y: number }[] = [];
      for (const [name, path] of ceilinged) {
        const ours = await measureEndpoints(ctx, urls, headers, seconds, [[name, path]]);
        const ceiling = await measureEndpoints(ctx, bareUrls, headers, seconds, [
          [`${name} (bare Fastify)`, path],
        ]);
        figures.push(...ours.figures, ...ceiling.figures);
        rps.push(...ours.rps);
        p50.push(...ours.p50);
        p99.push(...ours.p99);
        ceilingRps.push({ x: name, y: ceiling.rps[0]?.y ?? 0 });
        comparisons.push(
          compare(
            `${name}: requests/s, ${urls.length} processes`,
            'higher',
            measured(ours.throughput, name),
            `bare Fastify route answering the same bytes from memory (${bareUrls.length} processes)`,
            measured(ceiling.throughput, `${name} (bare Fastify)`),
          ),
        );
      }
      const rest = await measureEndpoints(ctx, urls, headers, seconds, endpoints);
      figures.push(...rest.figures);
      rps.push(...rest.rps);
      p50.push(...rest.p50);
      p99.push(...rest.p99);
      return {
        scenario: 'rest',
        title: this.title,
        params: {
          nodes: ctx.scale.nodes,
          pods: ctx.scale.pods,
          gateways: urls.length,
          connections: CONNECTIONS,
          seconds,
          runs: ctx.runs,
          warmup: ctx.warmup,
        },
        comparisons,
        figures,
        charts: [
          {
            id: 'rest-throughput',
            title: 'Requests per second, two gateways',
            kind: 'bar',
            xLabel: 'endpoint',
            yLabel: 'requests/s',
            series: [{ name: 'median', points: rps }],
          },
          {
            id: 'rest-ceiling',
            title: 'Requests per second beside a bare Fastify route answering the same bytes',
            kind: 'bar',
            xLabel: 'endpoint',
            yLabel: 'requests/s',
            series: [
              {
                name: `${urls.length} gateways`,
                points: rps.filter((p) => ceilingRps.some((c) => c.x === p.x)),
              },
              { name: `${urls.length} bare Fastify processes`, points: ceilingRps },
            ],
          },
          {
            id: 'rest-latency',
            title: 'Latency under load',
            kind: 'bar',
            xLabel: 'endpoint',
            yLabel: 'ms',
            series: [
              { name: 'p50', points: p50 },
              { name: 'p99', points: p99 },
            ],
          },
        ],
        notes: [
          `autocannon (in the bench process) with ${CONNECTIONS} keep-alive connections spread round-robin over ${urls.length} gateway processes, ${seconds} s a run; the cluster is ${ctx.scale.nodes.toLocaleString('en-US')} synthetic nodes written to Redis through the real writer, with allocation and one usage poll.`,
          'A node page is serialized once per (seq, query) and then served from the gateway’s body cache, so under load the sorted and the unsorted page cost the same; "page computed" is what a new seq costs the first request (filter, sort, page and JSON of the whole cluster, in process).',
          'Load generator, gateways and Redis share the machine’s cores: the figures are the whole system’s on this machine, not a gateway’s ceiling.',
          `Ceiling: ${urls.length} plain Fastify processes (scenarios/rest-bare-server.ts: no Nest, auth, Redis, helmet or CORS) answering the bytes each endpoint's gateway answer had, from memory, loaded with the same autocannon settings right after the gateways; the comparison's ratio is the gateways' fraction of it.`,
          'Revalidations send the answer’s own ETag in If-None-Match: every answer is a 304 with no body after one read of the cluster’s position (seq, epoch, life) in Redis.',
        ],
      };
    } finally {
      await stopAll(bare);
      await gateways?.stop();
      await deleteNamespace(ctx.redisUrl, namespace);
    }
  },
};
