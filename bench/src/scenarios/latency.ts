/**
 * End-to-end latency: a node label PATCHed at kube-sim (carrying its send time) ->
 * watcher -> Redis -> two gateways -> every client of a fleet spread over both,
 * p50 / p95 / p99 under background churn, for several client counts.
 */
import { Keyspace, toClusterName } from '@knm/contracts';
import {
  startClientFleet,
  sleep,
  viewDigest,
  waitFor,
  type ClientFleet,
  type FleetClientView,
  type Probe,
} from '@knm/testing';
import { percentile, round, summarize } from '../harness/stats.js';
import { bareDeliveryCeiling, readStretch, stretchPrefix, type StreamStretch } from './delivery-ceiling.js';
import type { BenchContext, ChartSpec, Figure, Scenario, ScenarioResult } from '../harness/types.js';
import {
  CLUSTER,
  minus,
  startRealtimeSystem,
  USAGE_INTERVAL_S,
  watcherCounters,
  type RealtimeSystem,
} from './realtime-system.js';
import { gatewaysMetric, gatewaysMetricByLabel } from '../harness/gateway-metrics.js';
import { describeReasons, fleetDisconnects } from '../harness/disconnect-reasons.js';
import { gatewayLogLines } from '../harness/gateways.js';

/** The gateway's log message for sockets owed envelopes and written nothing for 30 s (`ClusterFeed`'s stall report). */
const STALL_MESSAGE = 'sockets owed envelopes were written nothing for 30 s';

/** The most sockets one of the gateways' stall reports counted (its pino JSON lines). */
function mostStalled(lines: readonly string[]): number {
  let most = 0;
  for (const line of lines) {
    const at = line.indexOf('{');
    try {
      most = Math.max(most, Number((JSON.parse(line.slice(at)) as { stalled?: unknown }).stalled) || 0);
    } catch {
      // A line cut by the output's cap: not a count.
    }
  }
  return most;
}

export const PROBE_LABEL = 'knm.bench/probe';

/** What one probe window measured (see {@link probeWindow}). */
export interface ProbeWindow {
  /** One per client and probe delivered: ms from the probe's send to its node's change reaching the client. */
  samples: number[];
  /** Probes PATCHed, and how many of them failed (their node was gone). */
  sent: number;
  failed: number;
  /** Client and probe pairs delivered only by a later probe of the same node (merged delivery folded them). */
  superseded: number;
  /** Client and probe pairs not delivered within 5 s of the window's end. */
  missing: number;
}

/**
 * One measured window: probes at `probesPerSecond` for `seconds`, then up to 5 s for
 * stragglers. A probe counts as delivered to a client when a live change of its node
 * carries its value or a later probe's (a client in merged delivery gets a node's
 * latest state, so a probe overwritten meanwhile reaches it as the later one): its
 * latency runs to that change.
 */
export async function probeWindow(
  sys: RealtimeSystem,
  fleets: readonly ClientFleet[],
  probeNodes: string[],
  probesPerSecond: number,
  seconds: number,
): Promise<ProbeWindow> {
  await Promise.all(fleets.map((f) => f.resetProbes()));
  const interval = 1_000 / probesPerSecond;
  const start = performance.now();
  let sent = 0;
  let failed = 0;
  const probes: Probe[] = [];
  const inFlight: Promise<void>[] = [];
  while (performance.now() - start < seconds * 1_000) {
    const node = probeNodes[sent % probeNodes.length] as string;
    const value = (performance.timeOrigin + performance.now()).toFixed(3);
    sent += 1;
    inFlight.push(
      sys.patchLabel(node, PROBE_LABEL, value).then(
        () => void probes.push({ node, sentAt: Number(value) }),
        async () => {
          // Churn removed the node (or kube-sim did not answer): probe another one from now on.
          failed += 1;
          const truth = await sys.truth().catch(() => undefined);
          const replacement = Object.keys(truth?.nodes ?? {}).find((n) => !probeNodes.includes(n));
          if (replacement) probeNodes[probeNodes.indexOf(node)] = replacement;
        },
      ),
    );
    const next = start + sent * interval;
    await sleep(Math.max(0, next - performance.now()));
  }
  await Promise.all(inFlight);
  // Stragglers: wait until every client has every probe, or 5 s.
  const deadline = performance.now() + 5_000;
  for (;;) {
    const parts = await Promise.all(fleets.map((f) => f.probeDeliveries(probes)));
    const missing = parts.reduce((n, p) => n + p.missing + p.dropped, 0);
    if (missing === 0 || performance.now() >= deadline) {
      const samples = parts.flatMap((p) => p.latencyMs);
      const superseded = parts.reduce((n, p) => n + p.superseded, 0);
      return { samples, sent, failed, superseded, missing };
    }
    await sleep(200);
  }
}

/** Envelopes received by every client of every fleet so far. */
async function received(fleets: readonly ClientFleet[]): Promise<number> {
  const stats = (await Promise.all(fleets.map((f) => f.stats()))).flat();
  return stats.reduce((n, s) => n + s.received, 0);
}

/** How the clients' views stood against the truth at one check. */
export interface ViewsAgainstTruth {
  equal: boolean;
  /** Views checked, and those not equal to the truth (in all, and in each fleet, in the order given). */
  views: number;
  unequal: number;
  unequalByFleet: number[];
  /** How many of the unequal views differ in each aspect. */
  differIn: { nodes: number; pods: number; allocation: number; usage: number };
  /** Where the clients of the unequal views were (live, waiting to reconnect, ...), by state. */
  unequalStates: Record<string, number>;
  /** The stored seq. */
  storedSeq: number;
  /** The unequal view at the lowest seq, with where its client stood (undefined when all are equal). */
  lowest: Pick<FleetClientView, 'seq' | 'state' | 'socketId' | 'quietMs' | 'reconnects'> | undefined;
}

/**
 * Every client of every fleet against the truth's view (node versions, pod counts,
 * requests and limits) and the usage poll the watcher stored last.
 */
export async function viewsAgainstTruth(
  sys: RealtimeSystem,
  fleets: readonly ClientFleet[],
): Promise<ViewsAgainstTruth> {
  const [truth, stored] = await Promise.all([sys.truth(), sys.stored()]);
  const want = viewDigest(0, truth.nodes, truth.podCounts, truth.allocation, stored.usage);
  const byFleet = await Promise.all(fleets.map((f) => f.views()));
  const differIn = { nodes: 0, pods: 0, allocation: 0, usage: 0 };
  const unequalByFleet = fleets.map(() => 0);
  let unequal = 0;
  const unequalStates: Record<string, number> = {};
  let lowest: FleetClientView | undefined;
  for (const [fleet, views] of byFleet.entries()) {
    for (const v of views) {
      const differs = {
        nodes: v.nodesSha !== want.nodesSha,
        pods: v.podsSha !== want.podsSha,
        allocation: v.allocationSha !== want.allocationSha,
        usage: v.usageSha !== want.usageSha,
      };
      if (!Object.values(differs).some(Boolean)) continue;
      unequal += 1;
      unequalByFleet[fleet] = (unequalByFleet[fleet] ?? 0) + 1;
      unequalStates[v.state] = (unequalStates[v.state] ?? 0) + 1;
      if (lowest === undefined || v.seq < lowest.seq) lowest = v;
      for (const k of Object.keys(differs) as (keyof typeof differs)[]) if (differs[k]) differIn[k] += 1;
    }
  }
  return {
    equal: unequal === 0,
    views: byFleet.reduce((n, views) => n + views.length, 0),
    unequal,
    unequalByFleet,
    differIn,
    unequalStates,
    storedSeq: stored.seq,
    lowest,
  };
}

/** One line saying how far from the truth the views were: in which aspects, where their clients were, and the furthest behind. */
export function describeUnequal(v: ViewsAgainstTruth): string {
  const list = (counts: Record<string, number>): string =>
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const { lowest } = v;
  const furthest = lowest
    ? `seq ${lowest.seq} (${lowest.state}, socket ${lowest.socketId ?? '-'}, nothing received for ${round(lowest.quietMs / 1000, 1)} s, ${lowest.reconnects} reconnects)`
    : '-';
  // The stored seq is read just before the views: a view may be past it.
  return `${v.unequal} of ${v.views} views not equal at the last check (differing in: ${list(v.differIn)}; their clients: ${list(v.unequalStates)}); the furthest behind was at ${furthest}, the stored seq ${v.storedSeq}`;
}

/** When the watcher stored the cluster's last change (its last envelope's timestamp), as a `performance.now()` time. */
async function lastChangeStored(sys: RealtimeSystem): Promise<number | undefined> {
  const events = new Keyspace(sys.namespace).cluster(toClusterName(CLUSTER)).events;
  const [last] = await sys.redis.xrevrange(events, '+', '-', 'COUNT', 1);
  const json = last?.[1][1];
  const at =
    json === undefined
      ? Number.NaN
      : Date.parse(String((JSON.parse(json) as { timestamp?: unknown }).timestamp));
  return Number.isFinite(at) ? performance.now() - (Date.now() - at) : undefined;
}

/** What {@link untilEqualTruth} found. */
export interface Convergence {
  equal: boolean;
  /** From `since` until every view was equal to the truth (or until it gave up). */
  ms: number;
  /**
   * From the cluster's last change (its last envelope stored: the cluster keeps
   * changing after the churn stops, while the pods it started or deleted finish) until
   * every view was equal: the delivery's part, within a poll. Undefined when not equal.
   */
  afterLastChangeMs: number | undefined;
  /** The last check: when not equal, which views were behind and in what. */
  last: ViewsAgainstTruth;
}

/**
 * Waits until every client of every fleet equals the truth ({@link viewsAgainstTruth}),
 * polling every `intervalMs`, at most `timeoutMs`, from `since` (a `performance.now()`
 * time, e.g. when the churn stopped). `log`, when given, hears every 10 s how far
 * from the truth the views still are.
 */
export async function untilEqualTruth(
  sys: RealtimeSystem,
  fleets: readonly ClientFleet[],
  since: number,
  timeoutMs: number,
  intervalMs: number,
  log?: (line: string) => void,
): Promise<Convergence> {
  // Read before each comparison: a change stored meanwhile makes the figure larger, not smaller.
  let lastChange: number | undefined;
  let last: ViewsAgainstTruth | undefined;
  let loggedAt = performance.now();
  const equal = await waitFor(
    async () => {
      lastChange = await lastChangeStored(sys);
      last = await viewsAgainstTruth(sys, fleets);
      if (!last.equal && log && performance.now() - loggedAt >= 10_000) {
        loggedAt = performance.now();
        log(`${Math.round((loggedAt - since) / 1000)} s after the churn: ${describeUnequal(last)}`);
      }
      return last.equal;
    },
    { timeout: timeoutMs, interval: intervalMs, what: 'every client equal to the truth' },
  )
    .then(() => true)
    .catch(() => false);
  const now = performance.now();
  if (!equal) lastChange = undefined;
  return {
    equal,
    ms: now - since,
    afterLastChangeMs: lastChange === undefined ? undefined : Math.max(0, now - lastChange),
    last: last ?? (await viewsAgainstTruth(sys, fleets)),
  };
}

/** Envelope bytes a ceiling run replays to all its clients together: a few seconds of the machine's throughput. */
const CEILING_TOTAL_BYTES = 2 * 2 ** 30;
/** ... and to each client at most (a small fleet needs no more for a steady rate). */
const CEILING_CLIENT_BYTES = 2 * 2 ** 20;

/** What one churn rate asks of every client: the envelopes the watcher stored per second, with no client attached. */
interface Demand {
  rate: number;
  /** Every envelope's bytes a second, the usage polls' included. */
  bytesPerSecond: number;
  /** ... of which the usage polls' (one envelope of every node's usage each poll, whatever the churn). */
  usageBytesPerSecond: number;
  envelopesPerSecond: number;
  stretch: StreamStretch;
}

/**
 * Each churn rate's demand on every client, measured before any client connects (so
 * that a saturated machine does not throttle the stream it is measured by): churn
 * for `seconds`, then the envelopes stored meanwhile, read back from the events stream.
 * A window of a few seconds holds a usage poll or not by chance, so the polls are
 * counted at their own pace: the size of one `usage` envelope every
 * {@link USAGE_INTERVAL_S}, beside the rest of the window's envelopes.
 */
async function measureDemand(
  sys: RealtimeSystem,
  rates: readonly number[],
  seconds: number,
): Promise<Demand[]> {
  const keys = new Keyspace(sys.namespace).cluster(toClusterName(CLUSTER));
  const storedSeq = async (): Promise<number> => Number((await sys.redis.hget(keys.meta, 'seq')) ?? 0);
  const demand: Demand[] = [];
  for (const rate of rates) {
    await sys.churn(rate);
    await sleep(1_000);
    const from = await storedSeq();
    const t0 = performance.now();
    await sleep(seconds * 1_000);
    const to = await storedSeq();
    const elapsed = (performance.now() - t0) / 1_000;
    await sys.churn(0);
    const stretch = await readStretch(sys.redis, keys.events, from, to);
    const polled = stretch.envelopes.flatMap((e, i) =>
      e.type === 'usage' ? [stretch.sizes[i] as number] : [],
    );
    const usageBytes = polled.at(-1) ?? (await usageEnvelopeBytes(sys));
    const usageBytesPerSecond = usageBytes / USAGE_INTERVAL_S;
    demand.push({
      rate,
      bytesPerSecond: (stretch.bytes - polled.reduce((a, b) => a + b, 0)) / elapsed + usageBytesPerSecond,
      usageBytesPerSecond,
      envelopesPerSecond: stretch.envelopes.length / elapsed,
      stretch,
    });
  }
  return demand;
}

/** The JSON bytes of a `usage` envelope of the cluster's last poll (0 before the first). */
async function usageEnvelopeBytes(sys: RealtimeSystem): Promise<number> {
  const { seq, usage } = await sys.stored();
  if (usage === undefined) return 0;
  const envelope = { seq, type: 'usage', cluster: CLUSTER, timestamp: new Date().toISOString(), data: usage };
  return Buffer.byteLength(JSON.stringify(envelope));
}

/**
 * The machine's ceiling for each client step: how many envelope bytes a second a bare
 * Socket.IO server gets to that many fleet clients (delivery-ceiling.ts), replaying
 * the highest churn rate's envelopes in the batches a paced gateway would send, set
 * against what each churn rate asks of every client. Where a rate asks more, no
 * server can deliver it live to these clients on this machine: the step then measures
 * the load generator and the cores it shares, not the gateways.
 */
async function measureCeilings(
  ctx: BenchContext,
  clientSteps: readonly number[],
  demand: readonly Demand[],
  figures: Figure[],
  notes: string[],
): Promise<void> {
  const source = demand.reduce((a, b) => (b.bytesPerSecond > a.bytesPerSecond ? b : a));
  // As a paced gateway sends them: the envelopes of one slot (1/20 s) in one batch.
  const perBatch = Math.max(1, Math.round(source.envelopesPerSecond / 20));
  for (const clients of clientSteps) {
    const replay = stretchPrefix(
      source.stretch,
      Math.min(CEILING_CLIENT_BYTES, CEILING_TOTAL_BYTES / clients),
    );
    const ceiling = await bareDeliveryCeiling(replay, clients, perBatch, CLUSTER, 300_000);
    const kib = ceiling.bytesPerClientPerSecond / 1024;
    ctx.log(
      `latency: ceiling, bare socket.io to ${clients} clients: ${round(kib, 1)} KiB/s a client${ceiling.finished ? '' : ' (not every client finished)'}`,
    );
    figures.push({
      metric: 'ceiling: envelope bytes per client per second, bare socket.io',
      labels: { clients },
      value: summarize('KiB/s', [kib]),
    });
    const beyond = demand.filter((d) => d.bytesPerSecond > ceiling.bytesPerClientPerSecond);
    notes.push(
      `Ceiling at ${clients} clients: a bare socket.io server (no Redis, auth or bookkeeping) broadcasting ${round(replay.bytes / 2 ** 20, 2)} MiB of churn ${source.rate}/s's envelopes, ${perBatch} to a batch, as fast as it can, got ${round(kib, 1)} KiB/s to every client of a fleet of ${clients}${ceiling.finished ? '' : ' (not every client had all of it within 5 minutes: an upper bound)'}. ${
        beyond.length === 0
          ? 'Every churn rate asks less of each client.'
          : `Churn ${beyond.map((d) => `${d.rate}/s`).join(', ')} asks more of each client: no server can deliver it live to ${clients} clients of this fleet on this machine, so those runs measure the load generator and the shared cores, not the gateways.`
      }`,
    );
  }
}

/** What the latency scenario measures; defaults: see {@link latencyScenario}. */
export interface LatencyOptions {
  /** Client counts, in increasing order (the fleet grows from one to the next). */
  clients?: (ctx: BenchContext) => number[];
  /** Background churn events/s asked of kube-sim (each makes ~3 watch events: created, scheduled, running...). */
  rates?: (ctx: BenchContext) => number[];
}

async function run(ctx: BenchContext, options: LatencyOptions): Promise<ScenarioResult> {
  const clientSteps = options.clients?.(ctx) ?? (ctx.quick ? [50] : [1_000, 5_000]);
  const rates = options.rates?.(ctx) ?? (ctx.quick ? [100, 1_000] : [100, 1_000, 8_000]);
  const seconds = ctx.quick ? 1 : 3;
  const probesPerSecond = ctx.quick ? 10 : 5;
  const sys = await startRealtimeSystem(ctx, 2);
  const fleets: ClientFleet[] = [];
  const figures: Figure[] = [];
  const notes: string[] = [];
  const percentiles = [50, 95, 99] as const;
  const series = new Map<string, { x: number; y: number }[]>();
  try {
    const truth = await sys.truth();
    const probeNodes = Object.keys(truth.nodes).sort().slice(0, 8);
    const metaKey = new Keyspace(sys.namespace).cluster(toClusterName(CLUSTER)).meta;
    // What each rate asks of a client and what the machine can deliver, before any client is attached.
    const demand = await measureDemand(sys, rates, seconds);
    for (const d of demand) {
      ctx.log(
        `latency: churn ${d.rate}/s asks ${round(d.bytesPerSecond / 1024, 1)} KiB/s (${Math.round(d.envelopesPerSecond)} envelopes/s; ${round(d.usageBytesPerSecond / 1024, 1)} KiB/s of it the usage polls) of every client`,
      );
      figures.push({
        metric: 'envelope bytes a client must receive per second (no client attached)',
        labels: { 'churn/s': d.rate, 'envelopes/s': Math.round(d.envelopesPerSecond) },
        value: summarize('KiB/s', [d.bytesPerSecond / 1024]),
      });
    }
    const usage = demand[0]?.usageBytesPerSecond;
    notes.push(
      `What a churn rate asks of every client includes the usage polls: one envelope of every node's usage every ${USAGE_INTERVAL_S} s (${usage === undefined ? 'none' : `${round(usage / 1024, 1)} KiB/s`}), whatever the churn.`,
    );
    await measureCeilings(ctx, clientSteps, demand, figures, notes);
    let clients = 0;
    for (const target of clientSteps) {
      const startedAt = performance.now();
      const fleet = startClientFleet({
        gatewayUrls: sys.gateways.urls,
        token: sys.token,
        cluster: CLUSTER,
        clients: target - clients,
        // Client i starts on gateway i % 2, whatever fleet it is in.
        processes: Math.max(1, Math.ceil((target - clients) / 1_000)),
        probeLabel: PROBE_LABEL,
        // Browsers open on their own, not 20 at a time: the fleet's default pacing would
        // make "live in N s" the generator's figure. Clients of one process share each
        // snapshot read, so 100 at once is 100 sockets and about one read per process.
        connectConcurrency: 100,
      });
      fleets.push(fleet);
      const ready = await fleet.ready(600_000).then(
        () => undefined,
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      );
      if (ready !== undefined) {
        // A step whose clients never got live has nothing to measure; the figures so far stand.
        const live = (await fleet.stats().catch(() => [])).reduce((n, s) => n + s.live, 0);
        ctx.log(`latency: ${live} of ${target - clients} new clients live after 10 minutes`);
        notes.push(
          `${target} clients: ${live} of the ${target - clients} new clients were live 10 minutes after they started (${ready}); the step was not measured.`,
        );
        break;
      }
      clients = target;
      ctx.log(`latency: ${clients} clients live in ${round((performance.now() - startedAt) / 1000, 1)} s`);
      figures.push({
        metric: 'time until every new client is live',
        labels: { clients, 'new clients': fleet.size },
        value: summarize('s', [(performance.now() - startedAt) / 1000]),
      });
      const memory = (await Promise.all(fleets.map((f) => f.memory()))).flat();
      const rss = memory.reduce((n, m) => n + m.rssBytes, 0);
      figures.push({
        metric: 'fleet RSS per client',
        labels: { clients, processes: memory.length },
        value: summarize('KiB', [rss / clients / 1024]),
      });
      for (const rate of rates) {
        await sys.churn(rate);
        await sleep(ctx.quick ? 500 : 1_000);
        const before = await watcherCounters(sys.metricsUrl);
        const receivedBefore = await received(fleets);
        const t0 = performance.now();
        const runs: Record<(typeof percentiles)[number], number[]> = { 50: [], 95: [], 99: [] };
        let missing = 0;
        let superseded = 0;
        let deliveries = 0;
        for (let i = -ctx.warmup; i < ctx.runs; i++) {
          const window = await probeWindow(sys, fleets, probeNodes, probesPerSecond, seconds);
          if (i < 0) continue;
          missing += window.missing;
          superseded += window.superseded;
          deliveries += window.missing + window.samples.length;
          for (const p of percentiles) runs[p].push(percentile(window.samples, p));
        }
        const eventsPerSecond =
          minus(await watcherCounters(sys.metricsUrl), before).events / ((performance.now() - t0) / 1000);
        const deliveriesPerSecond =
          ((await received(fleets)) - receivedBefore) / ((performance.now() - t0) / 1000);
        await sys.churn(0);
        const quietFrom = performance.now();
        const [status, error] = await sys.redis.hmget(metaKey, 'status', 'error');
        if (status !== 'ready')
          notes.push(
            `${clients} clients at churn ${rate}/s: the watcher's status was ${status ?? 'unknown'} after the runs${error ? ` (${error})` : ''}.`,
          );
        for (const p of percentiles) {
          // A run in which no probe arrived has no percentile (the note on missing samples says so).
          const measured = runs[p].filter((v) => Number.isFinite(v));
          if (measured.length === 0) continue;
          figures.push({
            metric: `p${p} kube-sim PATCH -> client`,
            labels: {
              'churn/s': rate,
              'watch events/s': Math.round(eventsPerSecond),
              clients,
              'envelopes delivered/s': Math.round(deliveriesPerSecond),
            },
            value: summarize('ms', measured),
          });
          if (p !== 95) {
            const key = `p${p}, ${clients} clients`;
            series.set(key, [
              ...(series.get(key) ?? []),
              { x: rate, y: round(summarize('ms', measured).median, 2) },
            ]);
          }
        }
        ctx.log(
          `latency: ${clients} clients, churn ${rate}/s (${Math.round(eventsPerSecond)} watch events/s, ${Math.round(deliveriesPerSecond)} envelopes delivered/s): p50 ${round(summarize('ms', runs[50]).median, 1)} ms, p99 ${round(summarize('ms', runs[99]).median, 1)} ms${missing ? `, ${missing} samples missing` : ''}`,
        );
        if (missing > 0)
          notes.push(
            `${clients} clients at churn ${rate}/s: ${missing} of ${deliveries} probe deliveries not seen within 5 s of the window's end (not in the percentiles: they are floors then).`,
          );
        if (superseded > 0)
          notes.push(
            `${clients} clients at churn ${rate}/s: ${superseded} of ${deliveries} probe deliveries came through a later probe of the same node (the client was in merged delivery and got the node's latest state); their latency runs to that change.`,
          );
        // Correctness after this rate: once the churn stops, every client equals the truth, with no gap or reload.
        const {
          equal,
          ms: convergedMs,
          afterLastChangeMs,
          last,
        } = await untilEqualTruth(sys, fleets, quietFrom, 60_000, 250, (line) =>
          ctx.log(`latency: ${clients} clients, churn ${rate}/s: ${line}`),
        );
        const stalls = gatewayLogLines(sys.gateways, STALL_MESSAGE);
        const stalledAtOnce = mostStalled(stalls);
        const furthest = last.lowest?.socketId;
        if (!equal && furthest !== undefined) {
          // What the gateways said of the client furthest behind, if anything; else the
          // last stall report (the longest stalled socket and the budget's queue).
          const said = gatewayLogLines(sys.gateways, undefined, furthest);
          ctx.log(
            `latency: ${clients} clients, churn ${rate}/s: the gateways reported stalled sockets ${stalls.length} times so far (at most ${stalledAtOnce} at once); ${said.length} gateway log lines name the furthest behind (${furthest})${said.length > 0 ? ', the last:' : stalls.length > 0 ? '; the last stall report:' : ''}`,
          );
          for (const line of said.length > 0 ? said.slice(-3) : stalls.slice(-1)) ctx.log(`  ${line}`);
        }
        if (equal)
          figures.push({
            metric: 'every view equal to the truth, after the churn stopped',
            labels: { 'churn/s': rate, clients },
            value: summarize('s', [convergedMs / 1000]),
          });
        if (afterLastChangeMs !== undefined)
          figures.push({
            metric: "every view equal to the truth, after the cluster's last change",
            labels: { 'churn/s': rate, clients },
            value: summarize('s', [afterLastChangeMs / 1000]),
          });
        const stats = (await Promise.all(fleets.map((f) => f.stats()))).flat();
        const sum = (
          k: 'gaps' | 'reloads' | 'errors' | 'reconnects' | 'applied' | 'batches' | 'wholeStateBatches',
        ) => stats.reduce((n, s) => n + s[k], 0);
        const gateways = async (name: string): Promise<number> => gatewaysMetric(sys.gateways.urls, name);
        const [gatewayDisconnects, sent, built, waits, batchBytes, deflated, liveBytes, liveDeflated] =
          await Promise.all([
            gatewaysMetricByLabel(sys.gateways.urls, 'knm_gateway_socket_disconnects_total', 'reason'),
            gateways('knm_gateway_batches_sent_total'),
            gateways('knm_gateway_batches_built_total'),
            gateways('knm_gateway_batch_budget_waits_total'),
            gateways('knm_gateway_batch_bytes_total'),
            gateways('knm_gateway_batch_bytes_total{encoding="deflate"}'),
            gateways('knm_gateway_live_bytes_total'),
            gateways('knm_gateway_live_bytes_total{encoding="deflate"}'),
          ]);
        notes.push(
          `${clients} clients after churn ${rate}/s: ${equal ? `every view equal to /_sim/truth ${round(convergedMs / 1000, 1)} s after the churn stopped, ${round((afterLastChangeMs ?? 0) / 1000, 1)} s after the cluster's last change` : `NOT every view equal to /_sim/truth within 60 s after the churn stopped: ${describeUnequal(last)}`}; so far ${sum('applied')} envelopes applied, ${sum('batches')} batches (${sum('wholeStateBatches')} of the whole state), ${sum('gaps')} gaps, ${sum('reloads')} reloads, ${sum('reconnects')} reconnects (disconnects as the clients saw them: ${describeReasons(fleetDisconnects(stats))}; as the gateways did: ${describeReasons(gatewayDisconnects)}), ${sum('errors')} errors; the gateways sent ${sent} batches built ${built} times (shared), made sockets wait for the batch budget ${waits} times, reported stalled sockets (owed envelopes, written nothing for 30 s) ${stalls.length} times (at most ${stalledAtOnce} at once), and wrote ${round(batchBytes / 2 ** 20, 1)} MiB of batches (${round(deflated / 2 ** 20, 1)} MiB of them compressed), and ${round(liveBytes / 2 ** 20, 1)} MiB of live messages (${round(liveDeflated / 2 ** 20, 1)} MiB of them compressed).`,
        );
      }
    }
  } finally {
    await Promise.all(fleets.map((f) => f.close()));
    await sys.stop();
  }
  const chart: ChartSpec = {
    id: 'latency-by-churn',
    title: 'kube-sim PATCH -> Socket.IO client, by background churn',
    kind: 'line',
    xLabel: 'churn events/s',
    yLabel: 'ms',
    series: [...series.entries()].map(([name, points]) => ({ name, points })),
  };
  notes.unshift(
    `Each probe PATCHes a label (${PROBE_LABEL}) of one of 8 nodes at kube-sim with its send time (performance.timeOrigin + now, ms); a probe's latency at a client runs from that time to the first live change of the node carrying its value or a later probe's (merged delivery folds a node's changes into its latest state). Path: kube-sim (own process) -> watcher (own process) -> Redis -> 2 gateway processes -> clients (client i on gateway i mod 2) in fleet processes of ≤ 1,000 clients (libs/testing client fleet). ${probesPerSecond} probes/s for ${seconds} s per run, ${ctx.runs} runs (after ${ctx.warmup} warm-up) per churn rate; percentiles over every client's samples of a run; the figure is the median of the runs.`,
    "Background churn is kube-sim's (POST /_sim/churn), in churn events/s; the watch events/s the watcher received meanwhile are in the table. Everything shares 2 cores: at high churn or many clients the latency includes waiting for a core.",
  );
  return {
    scenario: 'latency',
    title: 'End-to-end latency: kube-sim change -> Socket.IO client on two gateways',
    params: {
      nodes: ctx.scale.nodes,
      pods: ctx.scale.pods,
      clients: clientSteps.join(', '),
      churn: rates.join(', '),
      probesPerSecond,
      seconds,
      runs: ctx.runs,
    },
    comparisons: [],
    figures,
    charts: [chart],
    notes,
  };
}

/** The latency scenario with other client counts or churn rates (e.g. a shorter run by hand). */
export function createLatencyScenario(options: LatencyOptions = {}): Scenario {
  return {
    name: 'latency',
    title: 'End-to-end latency: kube-sim change -> Socket.IO client on two gateways',
    run: (ctx) => run(ctx, options),
  };
}

/** Quick: 50 clients, churn 100 and 1,000/s; full: 1,000 and 5,000 clients, churn 100, 1,000 and 8,000/s. */
export const latencyScenario: Scenario = createLatencyScenario();
