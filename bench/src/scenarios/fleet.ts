import { NodeListQuerySchema, toClusterName, toNodeView, type ClusterName } from '@knm/contracts';
import {
  compareFleetKeys,
  compileNodeQuery,
  queryFleet,
  sortedMatches,
  type CompiledNodeQuery,
  type FleetKey,
  type FleetMember,
} from '@knm/node-query';
import { CONNECTIONS, measureEndpoints } from '../harness/autocannon-load.js';
import { startGateways, type Gateways } from '../harness/gateways.js';
import { benchNamespace, deleteNamespace } from '../harness/processes.js';
import { compare, summarize } from '../harness/stats.js';
import type { BenchContext, Comparison, Figure, Scenario, ScenarioResult } from '../harness/types.js';
import { seedCluster, syntheticCluster, type SyntheticCluster } from './synthetic-cluster.js';

/** Gateway processes loaded at once (autocannon spreads its connections over them round-robin). */
const GATEWAYS = 2;
/** Pods per node, as the rest scenario's 5,000 nodes / 150,000 pods. */
const PODS_PER_NODE = 30;
/** The page both lists serve: ready nodes of one zone, by cpu requests descending, 100. */
const PAGE_QUERY = {
  labelSelector: 'topology.kubernetes.io/zone=zone-b',
  ready: 'true',
  sort: '-cpu.requestsPercent',
  limit: '100',
} as const;

interface SeededCluster {
  name: ClusterName;
  data: SyntheticCluster;
}

/** The fleet page computed in process from each cluster's sorted matches and a k-way merge (sortedMatches uncached). */
function mergedPage(fleet: readonly SeededCluster[], compiled: CompiledNodeQuery): string {
  const members: FleetMember[] = fleet.map((c) => ({
    cluster: c.name,
    epoch: c.data.epoch,
    seq: c.data.seq,
    matches: sortedMatches(c.data, compiled),
  }));
  return JSON.stringify(queryFleet(members, compiled, 100));
}

/** The same page computed by one sort over the union of every cluster's matches: the alternative to the merge. */
function unionSortedPage(fleet: readonly SeededCluster[], compiled: CompiledNodeQuery): string {
  const all = fleet.flatMap((c) =>
    sortedMatches(c.data, compiled).map((m) => ({
      m,
      key: [m.key[0], c.name, m.key[1]] as FleetKey,
      cluster: c.name,
    })),
  );
  const direction = compiled.order.direction;
  all.sort((a, b) => direction * compareFleetKeys(a.key, b.key));
  return JSON.stringify(
    all.slice(0, 100).map(({ m: { subject: s }, cluster }) => ({
      cluster,
      ...toNodeView(s.node, s.podCount, s.allocation, s.usage),
    })),
  );
}

/** Milliseconds of `fn`, `samples` times after 2 unmeasured. */
function timed(samples: number, fn: () => unknown): number[] {
  const once = (): number => {
    const started = performance.now();
    fn();
    return performance.now() - started;
  };
  for (let i = 0; i < 2; i++) once();
  return Array.from({ length: samples }, once);
}

/**
 * The fleet list (`GET /api/v1/nodes` without `cluster_name`) over many clusters in
 * one Redis: a filtered sorted page of the whole fleet beside the same page of one
 * cluster, through two gateway processes; and, in process, what a new seq costs the
 * fleet page computed by a k-way merge of each cluster's sorted matches against one
 * sort over the union.
 */
export const fleetScenario: Scenario = {
  name: 'fleet',
  title: 'Fleet node list across clusters (two gateways)',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const namespace = benchNamespace();
    const clusters = ctx.quick ? 5 : 50;
    const perCluster = ctx.quick ? 100 : 1_000;
    const seconds = ctx.quick ? 1 : 5;
    let gateways: Gateways | undefined;
    try {
      const fleet: SeededCluster[] = Array.from({ length: clusters }, (_, k) => ({
        name: toClusterName(`fleet-${String(k + 1).padStart(2, '0')}`),
        data: syntheticCluster(perCluster, perCluster * PODS_PER_NODE, k * perCluster),
      }));
      for (const c of fleet) await seedCluster(ctx.redisUrl, namespace, c.name, c.data);
      ctx.log(`${clusters} clusters of ${perCluster} nodes written to Redis`);

      const compiled = compileNodeQuery(NodeListQuerySchema.parse(PAGE_QUERY), '*');
      // Both ways must give the same page before their costs are compared.
      const mergedItems = JSON.stringify(
        (JSON.parse(mergedPage(fleet, compiled)) as { items: unknown }).items,
      );
      if (mergedItems !== unionSortedPage(fleet, compiled)) {
        throw new Error('the k-way merge and the sort over the union disagree on the fleet page');
      }
      const samples = Math.max(5, ctx.runs * 5);
      const merged = summarize(
        'ms',
        timed(samples, () => mergedPage(fleet, compiled)),
      );
      const union = summarize(
        'ms',
        timed(samples, () => unionSortedPage(fleet, compiled)),
      );
      const cachedMembers: FleetMember[] = fleet.map((c) => ({
        cluster: c.name,
        epoch: c.data.epoch,
        seq: c.data.seq,
        matches: sortedMatches(c.data, compiled),
      }));
      const mergeOnly = summarize(
        'ms',
        timed(samples, () => JSON.stringify(queryFleet(cachedMembers, compiled, 100))),
      );
      ctx.log(
        `fleet page in process: k-way merge ${merged.median} ms (sorted lists cached: ${mergeOnly.median} ms), sort over the union ${union.median} ms`,
      );
      const comparisons: Comparison[] = [
        compare(
          'fleet page computed (uncached, in process)',
          'lower',
          merged,
          'one sort over the union',
          union,
        ),
      ];
      const figures: Figure[] = [
        {
          metric: 'fleet page computed, each cluster’s sorted matches cached (in process)',
          labels: { clusters, nodes: clusters * perCluster },
          value: mergeOnly,
        },
      ];

      gateways = await startGateways(GATEWAYS, ctx.redisUrl, namespace);
      const { urls, headers } = gateways;
      const qs = new URLSearchParams(PAGE_QUERY).toString();
      const endpoints: [string, string][] = [
        [`fleet page (${clusters} × ${perCluster} nodes)`, `/api/v1/nodes?${qs}`],
        [`one cluster's page (${perCluster} nodes)`, `/api/v1/clusters/${fleet[0]?.name}/nodes?${qs}`],
      ];
      const { figures: loads, rps, p50 } = await measureEndpoints(ctx, urls, headers, seconds, endpoints);
      figures.push(...loads);
      return {
        scenario: 'fleet',
        title: this.title,
        params: {
          clusters,
          nodesPerCluster: perCluster,
          podsPerNode: PODS_PER_NODE,
          query: qs,
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
            id: 'fleet-throughput',
            title: 'Fleet page vs one cluster’s page, requests per second',
            kind: 'bar',
            xLabel: 'endpoint',
            yLabel: 'requests/s',
            series: [{ name: 'median', points: rps }],
          },
          {
            id: 'fleet-latency',
            title: 'Fleet page vs one cluster’s page, p50',
            kind: 'bar',
            xLabel: 'endpoint',
            yLabel: 'ms',
            series: [{ name: 'p50', points: p50 }],
          },
        ],
        notes: [
          `${clusters} synthetic clusters of ${perCluster.toLocaleString('en-US')} nodes (allocation and one usage poll each) written to one Redis through the real writer; the page is ${qs} over the fleet and over one cluster, autocannon with ${CONNECTIONS} connections over ${urls.length} gateway processes, ${seconds} s a run.`,
          'The fleet page reads every cluster’s summary from Redis per request (one pipelined round of HGETALLs), and each cluster’s snapshot and sorted matches from the gateway’s caches (recomputed only for a cluster whose seq moved); the merge touches the page’s nodes, not the fleet. One cluster’s page is served from its serialized-body cache.',
          '"computed (uncached, in process)" is what a page costs when every cluster changed: filter and sort each cluster, then merge, against one sort over the union of the matches.',
        ],
      };
    } finally {
      await gateways?.stop();
      await deleteNamespace(ctx.redisUrl, namespace);
    }
  },
};
