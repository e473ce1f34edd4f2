/**
 * Slow clients beside fast ones: 10% of the clients read through a proxy at 16 KB/s
 * (merged delivery must keep them exact without slowing the others down). The same
 * fast clients are measured under the same churn without and then with the slow
 * ones, in one run: their p99 with slow clients present is compared with their p99
 * without. Also: every view (slow ones included) equal to the truth after the churn,
 * how long that took, reloads and disconnects, and the gateways' peak RSS.
 */
import { round, percentile, summarize } from '../harness/stats.js';
import type { BenchContext, Comparison, Figure, Scenario, ScenarioResult } from '../harness/types.js';
import { startClientFleet, startThrottleProxy, type ClientFleet, type ThrottleProxy } from '@knm/testing';
import { PROBE_LABEL, describeUnequal, probeWindow, untilEqualTruth } from './latency.js';
import { CLUSTER, startRealtimeSystem, type RealtimeSystem } from './realtime-system.js';
import { gatewayMetric, gatewaysMetric, gatewaysMetricByLabel } from '../harness/gateway-metrics.js';
import { describeReasons, fleetDisconnects } from '../harness/disconnect-reasons.js';
import { cpuUse } from '../harness/cpu-use.js';

const SLOW_BYTES_PER_SECOND = 16 * 1024;

/** What the gateways held at their peak while something ran (sampled every second). */
interface GatewayPeaks {
  /** The largest resident set of one gateway. */
  rss: number;
  /** The most batch budget held, summed over the gateways (bytes of batches written and not yet taken). */
  budgetHeld: number;
}

/** The gateways' peaks while `during` runs, and how many times they made a socket wait for the batch budget. */
async function gatewayPeaks<T>(
  sys: RealtimeSystem,
  during: () => Promise<T>,
): Promise<{ result: T; peak: GatewayPeaks; budgetWaits: number }> {
  const peak: GatewayPeaks = { rss: 0, budgetHeld: 0 };
  const { urls } = sys.gateways;
  const sample = async (): Promise<void> => {
    for (const url of urls) {
      peak.rss = Math.max(peak.rss, await gatewayMetric(url, 'knm_gateway_process_resident_memory_bytes'));
    }
    peak.budgetHeld = Math.max(
      peak.budgetHeld,
      await gatewaysMetric(urls, 'knm_gateway_batch_budget_held_bytes'),
    );
  };
  const waitsBefore = await gatewaysMetric(urls, 'knm_gateway_batch_budget_waits_total');
  const timer = setInterval(() => void sample(), 1_000);
  try {
    const result = await during();
    await sample();
    const budgetWaits = (await gatewaysMetric(urls, 'knm_gateway_batch_budget_waits_total')) - waitsBefore;
    return { result, peak, budgetWaits };
  } finally {
    clearInterval(timer);
  }
}

/** Probe windows under churn for `seconds`; the p99 of each window of the fleets measured. */
async function p99sUnderChurn(
  sys: RealtimeSystem,
  measured: readonly ClientFleet[],
  rate: number,
  seconds: number,
  windowSeconds: number,
): Promise<number[]> {
  const truth = await sys.truth();
  const probeNodes = Object.keys(truth.nodes).sort().slice(0, 8);
  await sys.churn(rate);
  const p99s: number[] = [];
  try {
    const started = performance.now();
    while (performance.now() - started < seconds * 1_000) {
      const window = await probeWindow(sys, measured, probeNodes, 5, windowSeconds);
      if (window.samples.length > 0) p99s.push(percentile(window.samples, 99));
    }
  } finally {
    await sys.churn(0);
  }
  return p99s;
}

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const fast = ctx.quick ? 45 : 900;
  const slow = ctx.quick ? 5 : 100;
  const rate = ctx.quick ? 200 : 1_000;
  const seconds = ctx.quick ? 6 : 60;
  const windowSeconds = ctx.quick ? 2 : 5;
  const sys = await startRealtimeSystem(ctx, 2);
  const fleets: ClientFleet[] = [];
  const proxies: ThrottleProxy[] = [];
  const figures: Figure[] = [];
  const comparisons: Comparison[] = [];
  const notes: string[] = [];
  try {
    const fastFleet = startClientFleet({
      gatewayUrls: sys.gateways.urls,
      token: sys.token,
      cluster: CLUSTER,
      clients: fast,
      probeLabel: PROBE_LABEL,
    });
    fleets.push(fastFleet);
    await fastFleet.ready(600_000);
    const without = await gatewayPeaks(sys, () =>
      cpuUse(sys.gateways.urls, () => p99sUnderChurn(sys, [fastFleet], rate, seconds, windowSeconds)),
    );

    for (const url of sys.gateways.urls) {
      proxies.push(
        await startThrottleProxy({
          targetPort: Number(new URL(url).port),
          bytesPerSecond: SLOW_BYTES_PER_SECOND,
        }),
      );
    }
    const slowFleet = startClientFleet({
      gatewayUrls: proxies.map((p) => p.url),
      restUrls: sys.gateways.urls,
      token: sys.token,
      cluster: CLUSTER,
      clients: slow,
      probeLabel: PROBE_LABEL,
    });
    fleets.push(slowFleet);
    await slowFleet.ready(600_000);
    const withSlow = await gatewayPeaks(sys, () =>
      cpuUse(sys.gateways.urls, () => p99sUnderChurn(sys, [fastFleet], rate, seconds, windowSeconds)),
    );

    const quietFrom = performance.now();
    const converged = await untilEqualTruth(sys, fleets, quietFrom, 120_000, 500, (line) =>
      ctx.log(`slow-clients: ${line}`),
    );
    const { equal } = converged;
    const convergedS = converged.ms / 1000;
    if (without.result.result.length > 0 && withSlow.result.result.length > 0) {
      const ours = summarize('ms', withSlow.result.result);
      const baseline = summarize('ms', without.result.result);
      comparisons.push({
        metric: `p99 kube-sim PATCH -> ${fast} fast clients, churn ${rate}/s, with ${slow} clients at 16 KB/s beside them`,
        better: 'lower',
        ours,
        baselineName: 'the same clients without the slow ones (same run)',
        baseline,
        ratio: round(baseline.median / ours.median, 3),
      });
    }
    figures.push(
      ...[without, withSlow].flatMap(({ result: { cpu }, peak, budgetWaits }, i) => [
        {
          metric: 'gateway peak RSS',
          labels: { 'slow clients': i === 0 ? 0 : slow },
          value: summarize('MiB', [peak.rss / 2 ** 20]),
        },
        {
          metric: 'batch budget held at the peak, both gateways',
          labels: { 'slow clients': i === 0 ? 0 : slow },
          value: summarize('MiB', [peak.budgetHeld / 2 ** 20]),
        },
        {
          metric: 'sockets made to wait for the batch budget',
          labels: { 'slow clients': i === 0 ? 0 : slow },
          value: summarize('times', [budgetWaits]),
        },
        {
          metric: 'machine CPU busy during the churn',
          labels: { 'slow clients': i === 0 ? 0 : slow },
          value: summarize('%', [cpu.machineBusy * 100]),
        },
        {
          metric: 'gateways CPU during the churn (cores)',
          labels: { 'slow clients': i === 0 ? 0 : slow },
          value: summarize('cores', [cpu.gatewayCores]),
        },
      ]),
      {
        metric: 'every view equal to /_sim/truth after the churn',
        labels: { clients: fast + slow },
        value: summarize('s', [convergedS]),
      },
    );
    if (converged.afterLastChangeMs !== undefined)
      figures.push({
        metric: "every view equal to /_sim/truth after the cluster's last change",
        labels: { clients: fast + slow },
        value: summarize('s', [converged.afterLastChangeMs / 1000]),
      });
    const [fastStats, slowStats] = await Promise.all(fleets.map(async (f) => (await f.stats()).flat()));
    const sum = (
      stats: Awaited<ReturnType<ClientFleet['stats']>>,
      k: 'reloads' | 'gaps' | 'reconnects' | 'batches' | 'parts' | 'wholeStateBatches' | 'errors',
    ) => stats.reduce((n, s) => n + s[k], 0);
    for (const [name, stats] of [
      ['fast', fastStats ?? []],
      ['slow (16 KB/s)', slowStats ?? []],
    ] as const) {
      notes.push(
        `${name} clients: ${sum(stats, 'batches')} batches (${sum(stats, 'wholeStateBatches')} of the whole state; ${sum(stats, 'parts')} parts before the last of batches in parts), ${sum(stats, 'reloads')} reloads, ${sum(stats, 'gaps')} gaps, ${sum(stats, 'reconnects')} reconnects (disconnects as they saw them: ${describeReasons(fleetDisconnects(stats))}), ${sum(stats, 'errors')} errors.`,
      );
    }
    // The gateways' own counts tell their slow-socket timeout apart from the other disconnects.
    const [slowDisconnects, gatewayDisconnects] = await Promise.all([
      gatewaysMetric(sys.gateways.urls, 'knm_gateway_slow_consumer_disconnects_total'),
      gatewaysMetricByLabel(sys.gateways.urls, 'knm_gateway_socket_disconnects_total', 'reason'),
    ]);
    notes.push(
      `The gateways disconnected ${slowDisconnects} sockets for draining nothing for the slow-socket timeout; every socket that left them, by Socket.IO's reason: ${describeReasons(gatewayDisconnects)}.`,
    );
    notes.unshift(
      `${fast} fast clients and ${slow} slow ones (10%) on 2 gateways, kube-sim churn ${rate}/s for ${seconds} s, twice: without the slow clients, then with them. The slow ones' sockets go through a TCP proxy per gateway that reads ${SLOW_BYTES_PER_SECOND / 1024} KB/s per connection (their REST snapshot goes direct). p99 per ${windowSeconds} s probe window (5 probes/s), fast clients only; the figure is the median of the windows.`,
      equal
        ? `Every view, the slow ones' included, equalled /_sim/truth ${round(convergedS, 1)} s after the churn stopped, ${round((converged.afterLastChangeMs ?? 0) / 1000, 1)} s after the cluster's last change (the cluster keeps changing while the pods the churn started or deleted finish).`
        : `NOT every view equalled /_sim/truth within 120 s after the churn: ${describeUnequal(converged.last)} (fast ${converged.last.unequalByFleet[0] ?? 0}, slow ${converged.last.unequalByFleet[1] ?? 0}).`,
    );
  } finally {
    await Promise.all(fleets.map((f) => f.close()));
    await Promise.all(proxies.map((p) => p.close()));
    await sys.stop();
  }
  return {
    scenario: 'slow-clients',
    title: 'Slow clients (16 KB/s) beside fast ones: merged delivery keeps both',
    params: {
      nodes: ctx.scale.nodes,
      pods: ctx.scale.pods,
      fast: ctx.quick ? 45 : 900,
      slow: ctx.quick ? 5 : 100,
      churn: ctx.quick ? 200 : 1_000,
    },
    comparisons,
    figures,
    charts: [],
    notes,
  };
}

/** Quick: 45 + 5 clients, churn 200/s for 6 s; full: 900 + 100 clients, churn 1,000/s for 60 s. */
export const slowClientsScenario: Scenario = {
  name: 'slow-clients',
  title: 'Slow clients (16 KB/s) beside fast ones: merged delivery keeps both',
  run,
};
