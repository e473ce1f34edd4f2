import type { Logger } from 'pino';
import { sleep, startClientFleet, viewDigest, type ClientFleet, type ViewDigest } from '@knm/testing';
import type { ChaosSystem } from './chaos-system.js';
import { MemorySampler, redisUsedMemory } from './memory-sampler.js';
import { analyseTrend, type MemorySample, type TrendVerdict } from './trend.js';

/** One process' memory over the soak and the verdict on it. */
export interface ProcessMemory {
  name: string;
  samples: MemorySample[];
  trend: TrendVerdict;
  /** Whether the series counts for the growth verdict ({@link isJudged}). */
  judged: boolean;
}

/** What the soak's clients of one cluster ended with. */
export interface SoakClusterVerdict {
  cluster: string;
  clients: number;
  /** Redis' seq once quiet. */
  seq: number;
  /** Redis equal to the truth (node resourceVersions and pod counts). */
  redisEqualsTruth: boolean;
  /** Clients whose view digest differs from the truth's or whose seq is not Redis'. */
  clientsMismatched: number;
  /** Sum of the clients' counters. */
  applied: number;
  gaps: number;
  reloads: number;
  resumes: number;
  errors: number;
  detail: string[];
}

/** The soak's outcome. */
export interface SoakResult {
  clients: number;
  fleetProcesses: number;
  durationMs: number;
  warmupMs: number;
  intervalMs: number;
  churnPerSecond: number;
  connectMs: number;
  /** Envelopes the soak's clients applied in total. */
  envelopesApplied: number;
  memory: ProcessMemory[];
  /**
   * Whether the growth verdict counts: only when the judged half of the sampling
   * window lasts at least {@link MIN_TREND_WINDOW_MS}. A shorter soak (the quick run's
   * 40 s) samples and reports every series, but a process still reaching its working
   * size (a watcher restarted by the scenarios just before) looks the same as a leak.
   */
  trendsJudged: boolean;
  /** Mismatched clients (each lost at least one event) + 1 per cluster whose Redis differs from the truth. */
  eventsLost: number;
  clusters: SoakClusterVerdict[];
  ok: boolean;
  error?: string;
}

/** Options of {@link runSoak}. */
export interface SoakOptions {
  system: ChaosSystem;
  log: Logger;
  /** Clients in total, spread evenly over the clusters (one client watches one cluster). */
  clients: number;
  /** Churn events per second per cluster during the soak. */
  churn: number;
  durationMs: number;
  /** Churn with every client live before sampling starts (JIT, heaps and buffers reaching their working size). */
  warmupMs: number;
  intervalMs: number;
  quietTimeoutMs: number;
}

/**
 * Steady churn with `clients` Socket.IO clients of the client fleet (child
 * processes of `@knm/testing`, the SDK's resume protocol on a compact view) for
 * `warmupMs` + `durationMs`, every process' memory sampled every `intervalMs` after
 * the warm-up. At the end churn
 * stops and every client's view digest must equal the truth's at Redis' seq, and no
 * process' memory may show a growth trend (see `analyseTrend`).
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { system, log } = options;
  const result: SoakResult = {
    clients: options.clients,
    fleetProcesses: 0,
    durationMs: options.durationMs,
    warmupMs: options.warmupMs,
    intervalMs: options.intervalMs,
    churnPerSecond: options.churn,
    connectMs: 0,
    envelopesApplied: 0,
    memory: [],
    trendsJudged: options.durationMs / 2 >= MIN_TREND_WINDOW_MS,
    eventsLost: 0,
    clusters: [],
    ok: false,
  };
  const fleets: { cluster: string; fleet: ClientFleet }[] = [];
  try {
    // Clients connect to a quiet system (thousands of snapshot reads at once), then churn starts.
    await system.setChurn(false);
    const connectStart = Date.now();
    const token = await system.token();
    const perCluster = Math.ceil(options.clients / system.clusters.length);
    log.info({ clients: options.clients, perCluster }, 'soak: starting the client fleet');
    for (const c of system.clusters) {
      fleets.push({
        cluster: c.name,
        fleet: startClientFleet({
          gatewayUrls: system.gateways.map((g) => g.url),
          token,
          cluster: c.name,
          clients: perCluster,
          maxOldSpaceMb: 1_024,
        }),
      });
    }
    await Promise.all(fleets.map((f) => f.fleet.ready(300_000)));
    result.connectMs = Date.now() - connectStart;
    const fleetPids: { name: string; pid: number }[] = [];
    for (const { cluster, fleet } of fleets) {
      for (const s of await fleet.stats())
        fleetPids.push({ name: `fleet ${cluster} #${s.process}`, pid: s.pid });
    }
    result.fleetProcesses = fleetPids.length;
    log.info({ connectMs: result.connectMs, processes: fleetPids.length }, 'soak: every client live');
    await system.setChurn(true, options.churn);
    await sleep(options.warmupMs);
    const redisPid = system.redis.process?.pid;
    const sampler = new MemorySampler(
      () => [
        ...system.processes(),
        ...(redisPid !== undefined ? [{ name: 'redis-server', pid: redisPid }] : []),
        ...fleetPids,
      ],
      {
        'redis used_memory': () => redisUsedMemory(system.client),
        ...fleetHeapProbes(fleets, fleetPids, options.intervalMs),
      },
      options.intervalMs,
    );
    sampler.start();
    const end = Date.now() + options.durationMs;
    while (Date.now() < end) {
      await sleep(Math.min(30_000, end - Date.now()));
      log.info({ remainingS: Math.round((end - Date.now()) / 1000) }, 'soak: running');
    }
    const series = await sampler.stop();
    result.memory = Object.entries(series).map(([name, samples]) => ({
      name,
      samples,
      trend: analyseTrend(samples),
      judged: isJudged(name),
    }));
    await system.setChurn(false);
    result.clusters = await verifyFleets(system, fleets, options.quietTimeoutMs);
    result.envelopesApplied = result.clusters.reduce((s, c) => s + c.applied, 0);
    result.eventsLost = result.clusters.reduce(
      (s, c) => s + c.clientsMismatched + (c.redisEqualsTruth ? 0 : 1),
      0,
    );
  } catch (err) {
    result.error = (err as Error).message;
    log.error({ err: result.error }, 'soak failed');
  } finally {
    await Promise.all(fleets.map((f) => f.fleet.close().catch(() => undefined)));
  }
  result.ok =
    result.error === undefined &&
    result.eventsLost === 0 &&
    result.memory.length > 0 &&
    (!result.trendsJudged || result.memory.every((m) => !m.judged || !m.trend.growing));
  log.info(
    {
      ok: result.ok,
      eventsLost: result.eventsLost,
      trendsJudged: result.trendsJudged,
      growing: result.memory.filter((m) => m.judged && m.trend.growing).map((m) => m.name),
      growingNotJudged: result.memory.filter((m) => !m.judged && m.trend.growing).map((m) => m.name),
      detail: result.clusters.flatMap((c) => c.detail),
    },
    `soak: ${result.ok ? 'passed' : 'FAILED'}`,
  );
  return result;
}

/** The shortest judged half of a soak's sampling window for its memory trends to count (so a soak of at least 4 minutes). */
export const MIN_TREND_WINDOW_MS = 2 * 60_000;

/**
 * Whether a series counts for the growth verdict. The fleet is the load generator,
 * and V8 grows a process's RSS in steps (a 160 -> 192 MB step late in a 10-minute soak
 * looks like a trend to a line fit, though the first and last samples were equal), so
 * for the fleet processes the verdict uses their heap after a forced full GC, which is
 * what a leak grows; their RSS is reported, not judged. knm's processes (watchers,
 * gateways, kube-sim) cannot be made to collect from outside: their RSS is judged.
 */
export function isJudged(series: string): boolean {
  return !(series.startsWith('fleet ') && series.endsWith(' rss'));
}

/** One probe per fleet process: heap after a forced full GC, one `memory` round per fleet and sample. */
function fleetHeapProbes(
  fleets: readonly { cluster: string; fleet: ClientFleet }[],
  fleetPids: readonly { name: string }[],
  intervalMs: number,
): Record<string, () => Promise<number | undefined>> {
  const probes: Record<string, () => Promise<number | undefined>> = {};
  for (const { cluster, fleet } of fleets) {
    let round: Promise<{ heapUsedBytes: number }[]> | undefined;
    let roundAt = 0;
    const heaps = (): Promise<{ heapUsedBytes: number }[]> => {
      if (!round || Date.now() - roundAt > intervalMs / 2) {
        roundAt = Date.now();
        round = fleet.memory({ afterGc: true });
      }
      return round;
    };
    const count = fleetPids.filter((p) => p.name.startsWith(`fleet ${cluster} #`)).length;
    for (let i = 0; i < count; i++)
      probes[`fleet ${cluster} #${i} heap after GC`] = () =>
        heaps().then(
          (all) => all[i]?.heapUsedBytes,
          () => undefined,
        );
  }
  return probes;
}

const sameDigest = (a: ViewDigest, b: ViewDigest): boolean =>
  a.seq === b.seq &&
  a.nodesSha === b.nodesSha &&
  a.podsSha === b.podsSha &&
  a.allocationSha === b.allocationSha &&
  a.usageSha === b.usageSha;

/** Waits until every fleet client's digest equals the truth's at Redis' seq (or time runs out) and reports. */
async function verifyFleets(
  system: ChaosSystem,
  fleets: readonly { cluster: string; fleet: ClientFleet }[],
  timeoutMs: number,
): Promise<SoakClusterVerdict[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const verdicts: SoakClusterVerdict[] = [];
    for (const { cluster, fleet } of fleets) {
      const truth = await system.truth(system.cluster(cluster));
      const redis = await system.redisState(cluster);
      const rvs = (nodes: Readonly<Record<string, { resourceVersion: string }>>): Record<string, string> =>
        Object.fromEntries(Object.entries(nodes).map(([n, s]) => [n, s.resourceVersion]));
      // Usage is compared with the watcher's last poll (the truth's metrics move on between polls).
      const expected = viewDigest(
        redis.seq,
        rvs(truth.nodes),
        truth.podCounts,
        truth.allocation,
        redis.usage,
      );
      const inRedis = viewDigest(redis.seq, rvs(redis.nodes), redis.podCounts, redis.allocation, redis.usage);
      const views = await fleet.views();
      const stats = await fleet.stats();
      const mismatched = views.filter((v) => !sameDigest(v, expected)).length;
      const sum = (k: 'applied' | 'gaps' | 'reloads' | 'resumes' | 'errors'): number =>
        stats.reduce((s, p) => s + p[k], 0);
      const detail: string[] = [];
      const bad = views.find((v) => !sameDigest(v, expected));
      if (bad)
        detail.push(
          `${mismatched} clients differ, e.g. seq ${bad.seq} (redis ${redis.seq}), ${bad.nodes} nodes, ${bad.pods} pods (truth ${expected.nodes}, ${expected.pods})`,
        );
      if (!sameDigest(inRedis, expected)) detail.push('redis differs from the truth');
      verdicts.push({
        cluster,
        clients: views.length,
        seq: redis.seq,
        redisEqualsTruth: sameDigest(inRedis, expected),
        clientsMismatched: mismatched,
        applied: sum('applied'),
        gaps: sum('gaps'),
        reloads: sum('reloads'),
        resumes: sum('resumes'),
        errors: sum('errors'),
        detail,
      });
    }
    if (verdicts.every((v) => v.redisEqualsTruth && v.clientsMismatched === 0) || Date.now() > deadline)
      return verdicts;
    await sleep(500);
  }
}
