import { NodeListQuerySchema } from '@knm/contracts';
import { compileNodeQuery, queryNodes } from '@knm/node-query';
import { CONNECTIONS, measureEndpoints } from '../harness/autocannon-load.js';
import { startGateways, type Gateways } from '../harness/gateways.js';
import { benchNamespace, deleteNamespace } from '../harness/processes.js';
import { summarize } from '../harness/stats.js';
import type { BenchContext, Figure, Scenario, ScenarioResult } from '../harness/types.js';
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

/**
 * REST latency and throughput of two gateway processes sharing one Redis, loaded at
 * once: one node, a filtered sorted page, every pod count of the cluster. No
 * baseline of its own (the queries scenario compares with the Kubernetes API).
 */
export const restScenario: Scenario = {
  name: 'rest',
  title: 'REST latency and throughput (two gateways)',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const namespace = benchNamespace();
    const seconds = ctx.quick ? 1 : 5;
    let gateways: Gateways | undefined;
    try {
      const cluster = syntheticCluster(ctx.scale.nodes, ctx.scale.pods);
      await seedCluster(ctx.redisUrl, namespace, 'bench', cluster);
      ctx.log(`${ctx.scale.nodes} nodes written to Redis`);
      gateways = await startGateways(GATEWAYS, ctx.redisUrl, namespace);
      ctx.log(`${GATEWAYS} gateways listening`);
      const { urls, headers } = gateways;
      const middle = `node-${String(Math.floor(ctx.scale.nodes / 2)).padStart(5, '0')}`;
      const endpoints: [string, string][] = [
        ['single node', `/api/v1/clusters/bench/nodes/${middle}`],
        [
          'filtered page (zone-b, ready, by pods desc, 100)',
          `/api/v1/clusters/bench/nodes?labelSelector=${encodeURIComponent('topology.kubernetes.io/zone=zone-b')}&ready=true&sort=pods&order=desc&limit=100`,
        ],
        ['all pod counts', '/api/v1/clusters/bench/pod-counts'],
        ['unsorted page (by name, 100)', '/api/v1/clusters/bench/nodes?limit=100'],
        [
          'sorted by cpu.requestsPercent desc (100)',
          '/api/v1/clusters/bench/nodes?sort=-cpu.requestsPercent&limit=100',
        ],
        ['resources rollup', '/api/v1/clusters/bench/resources'],
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
      const {
        figures: loads,
        rps,
        p50,
        p99,
      } = await measureEndpoints(ctx, urls, headers, seconds, endpoints);
      figures.push(...loads);
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
        comparisons: [],
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
        ],
      };
    } finally {
      await gateways?.stop();
      await deleteNamespace(ctx.redisUrl, namespace);
    }
  },
};
