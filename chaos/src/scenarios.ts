import type { Logger } from 'pino';
import { toClusterName } from '@knm/contracts';
import { FencedError, NodeStoreWriter } from '@knm/node-store';
import { sleep, spawnProcess } from '@knm/testing';
import type { ChaosSystem, ClusterUnderTest } from './chaos-system.js';
import type { ClientPool } from './client-pool.js';
import { fetchMetrics, sumMetric } from './prom-text.js';

/** A named check a scenario makes beyond "nothing lost" (e.g. "the standby took over"). */
export interface ScenarioCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What a scenario's fault did, for the report. */
export interface FaultOutcome {
  /** When the (first) fault was injected, ms epoch. */
  faultAt: number;
  checks: ScenarioCheck[];
  notes: Record<string, string | number | boolean>;
  /** Undo what the fault left behind (restart a killed gateway, replace a killed watcher) after recovery. */
  restore?: () => Promise<void>;
  /** A condition recovery must also meet (e.g. no client left on a killed gateway). */
  recovered?: () => boolean;
  /** Checks that need the recovered system (run after recovery, before quiescing). */
  afterRecovery?: () => Promise<ScenarioCheck[]>;
}

/** Everything a scenario may touch. */
export interface ScenarioContext {
  system: ChaosSystem;
  pool: ClientPool;
  log: Logger;
  /** Seconds of the API outage. */
  outageSeconds: number;
}

/** One fault-injection scenario. */
export interface Scenario {
  name: string;
  description: string;
  /**
   * Whether clients may reload their views: only where Redis loses its data (their
   * continuity cannot be proven). Everywhere else a reload fails the scenario.
   */
  reloadsExpected?: boolean;
  inject(ctx: ScenarioContext): Promise<FaultOutcome>;
}

const check = (name: string, ok: boolean, detail: string): ScenarioCheck => ({ name, ok, detail });

async function waitUntil(
  what: string,
  timeoutMs: number,
  predicate: () => Promise<boolean> | boolean,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await predicate()) return Date.now();
    } catch {
      // retried
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function first(system: ChaosSystem): ClusterUnderTest {
  const c = system.clusters[0];
  if (!c) throw new Error('no cluster');
  return c;
}

async function killLeader(ctx: ScenarioContext, c: ClusterUnderTest): Promise<FaultOutcome> {
  const { system } = ctx;
  const before = await system.meta(c.name);
  const leader = await system.leader(c);
  if (!leader) throw new Error(`${c.name} has no leader of ours`);
  const faultAt = Date.now();
  leader.proc.signal('SIGKILL');
  await leader.proc.exited;
  return {
    faultAt,
    checks: [],
    notes: { killed: leader.identity, epochBefore: before.epoch },
    afterRecovery: async () => {
      const after = await system.meta(c.name);
      return [
        check(
          'standby took over',
          after.leader !== leader.identity && after.epoch > before.epoch,
          `leader ${after.leader ?? 'none'}, epoch ${before.epoch} -> ${after.epoch}`,
        ),
      ];
    },
    restore: () => system.replenishWatchers(),
  };
}

/** No client on the killed gateway, none disconnected. */
function allMoved(spread: Readonly<Record<string, number>>, killed: string): boolean {
  return (spread[killed] ?? 0) === 0 && (spread['none'] ?? 0) === 0;
}

async function killGateway(ctx: ScenarioContext): Promise<FaultOutcome> {
  const { system, pool } = ctx;
  // The busiest one: after an earlier kill, every client may sit on the other.
  const spread = pool.byGateway();
  const gw = [...system.gateways].sort((a, b) => (spread[b.id] ?? 0) - (spread[a.id] ?? 0))[0];
  if (!gw) throw new Error('no gateway');
  const onIt = spread[gw.id] ?? 0;
  const faultAt = Date.now();
  await system.killGateway(gw);
  return {
    faultAt,
    checks: [check('clients were on the killed gateway', onIt > 0, `${onIt} of ${pool.size} clients`)],
    notes: { killed: gw.id, clientsMoved: onIt },
    recovered: () => allMoved(pool.byGateway(), gw.id),
    afterRecovery: () => {
      const now = pool.byGateway();
      return Promise.resolve([
        check('clients moved to the other gateway', allMoved(now, gw.id), JSON.stringify(now)),
      ]);
    },
    restore: () => system.restartGateway(gw),
  };
}

async function restartRedis(ctx: ScenarioContext): Promise<FaultOutcome> {
  const { system, pool } = ctx;
  const epochs = new Map<string, number>();
  for (const c of system.clusters) epochs.set(c.name, (await system.meta(c.name)).epoch);
  const reloadsBefore = countReloads(pool);
  const faultAt = Date.now();
  await system.redis.restart();
  return {
    faultAt,
    checks: [],
    notes: { restartMs: Date.now() - faultAt },
    afterRecovery: async () => {
      const out: ScenarioCheck[] = [];
      for (const c of system.clusters) {
        const meta = await system.meta(c.name);
        out.push(
          check(
            `${c.name}: a watcher rebuilt the lost state`,
            meta.status === 'ready' && meta.nodeCount !== undefined,
            `epoch ${epochs.get(c.name)} -> ${meta.epoch}, ${meta.nodeCount ?? 0} nodes, leader ${meta.leader ?? 'none'}`,
          ),
        );
      }
      const reloads = countReloads(pool) - reloadsBefore;
      out.push(
        check(
          'clients reloaded (over REST after a resync, or a whole-state batch)',
          reloads >= pool.watches.length,
          `${reloads} reloads`,
        ),
      );
      return out;
    },
  };
}

/** Views replaced whole: REST reloads and whole-state batches. */
function countReloads(pool: ClientPool): number {
  return pool.watches.reduce((s, w) => s + w.watch.stats.reloads + w.watch.stats.wholeStateBatches, 0);
}

async function forEachSim(ctx: ScenarioContext, path: string, body: unknown): Promise<void> {
  await Promise.all(ctx.system.clusters.map((c) => ctx.system.control(c, path, body)));
}

async function dropWatches(ctx: ScenarioContext): Promise<FaultOutcome> {
  const faultAt = Date.now();
  await forEachSim(ctx, 'faults', { dropWatches: true });
  await sleep(700);
  await forEachSim(ctx, 'faults', { resetWatches: true });
  return { faultAt, checks: [], notes: { faults: 'dropWatches, then resetWatches 0.7 s later' } };
}

async function compaction(ctx: ScenarioContext): Promise<FaultOutcome> {
  const { system } = ctx;
  const relists = async (): Promise<number> => {
    let sum = 0;
    for (const c of system.clusters)
      for (const w of c.watchers)
        sum += sumMetric(await fetchMetrics(w.metricsPort), 'knm_watcher_relists_total', {
          reason: 'expired',
        });
    return sum;
  };
  const before = await relists();
  const faultAt = Date.now();
  // Twice, a second apart: a storm of 410s for every watch, resumed or not.
  await forEachSim(ctx, 'faults', { compact: true, dropWatches: true });
  await sleep(1_000);
  await forEachSim(ctx, 'faults', { compact: true, dropWatches: true });
  return {
    faultAt,
    checks: [],
    notes: { faults: 'compact + dropWatches, twice' },
    afterRecovery: async () => {
      const n = (await relists()) - before;
      return [
        check('watchers relisted after 410', n >= system.clusters.length, `${n} relists (reason expired)`),
      ];
    },
  };
}

async function errorBursts(ctx: ScenarioContext): Promise<FaultOutcome> {
  const faultAt = Date.now();
  await forEachSim(ctx, 'faults', {
    errorRate: { fraction: 1, status: 500, seconds: 2 },
    resetWatches: true,
  });
  await sleep(2_500);
  await forEachSim(ctx, 'faults', {
    errorRate: { fraction: 0.7, status: 429, seconds: 2 },
    resetWatches: true,
  });
  await sleep(2_500);
  await forEachSim(ctx, 'faults', { clear: true });
  return {
    faultAt,
    checks: [],
    notes: { faults: '500 x100% for 2 s, then 429 x70% for 2 s, watches reset' },
  };
}

async function apiOutage(ctx: ScenarioContext): Promise<FaultOutcome> {
  const { system, pool, outageSeconds } = ctx;
  const c = first(system);
  const watches = pool.of(c.name);
  for (const w of watches) w.statusesSeen.clear();
  const faultAt = Date.now();
  await system.control(c, 'faults', { downForSeconds: outageSeconds });
  const degradedAt = await waitUntil(
    'status degraded',
    outageSeconds * 1000 + 15_000,
    async () => (await system.meta(c.name)).status === 'degraded',
  );
  const sawAll = await waitUntil('every client to show degraded', outageSeconds * 1000 + 15_000, () =>
    watches.every((w) => w.statusesSeen.has('degraded')),
  ).then(
    () => true,
    () => false,
  );
  const seen = watches.filter((w) => w.statusesSeen.has('degraded')).length;
  return {
    faultAt,
    checks: [
      check('meta status degraded during the outage', true, `after ${degradedAt - faultAt} ms`),
      check('every client showed degraded', sawAll, `${seen} of ${watches.length}`),
    ],
    notes: { cluster: c.name, outageSeconds, degradedAfterMs: degradedAt - faultAt },
    afterRecovery: () =>
      Promise.resolve([
        check(
          'every client showed ready again',
          watches.every((w) => w.watch.view.status?.status === 'ready'),
          `${watches.filter((w) => w.watch.view.status?.status === 'ready').length} of ${watches.length}`,
        ),
      ]),
  };
}

async function zombieLeader(ctx: ScenarioContext, c: ClusterUnderTest): Promise<FaultOutcome> {
  const { system } = ctx;
  const zombie = await system.leader(c);
  if (!zombie) throw new Error(`${c.name} has no leader of ours`);
  const before = await system.meta(c.name);
  const okBefore = sumMetric(await fetchMetrics(zombie.metricsPort), 'knm_watcher_redis_writes_total', {
    result: 'ok',
  });
  const faultAt = Date.now();
  zombie.proc.signal('SIGSTOP');
  let tookOver: { leader: string; epoch: number };
  let monitor: WriteEpochMonitor | undefined;
  try {
    await waitUntil('a standby to take over from the paused leader', 30_000, async () => {
      const m = await system.meta(c.name);
      return m.leader !== zombie.identity && m.epoch > before.epoch && m.status === 'ready';
    });
    const m = await system.meta(c.name);
    tookOver = { leader: m.leader ?? '', epoch: m.epoch };
    monitor = await watchWriteEpochs(system, c.name);
    await sleep(2_000); // churn goes on under the new leader while the zombie sleeps
    // Node changes wait in the zombie's watch socket: on waking it handles them first
    // (I/O before its lease timers) and tries to write them with its old epoch.
    const names = Object.keys((await system.truth(c)).nodes).slice(0, 5);
    for (const [i, name] of names.entries())
      await system.labelNode(c, name, { 'chaos.knm.io/zombie': String(faultAt + i) });
    await sleep(500);
  } finally {
    zombie.proc.signal('SIGCONT');
  }
  const wokeAt = Date.now();
  await sleep(3_000);
  const epochsWritten = monitor ? await monitor.stop() : new Map<number, number>();
  const zombieAttempts = epochsWritten.get(before.epoch) ?? 0;
  // The fence itself, with the zombie's epoch on the live Redis: a pod delta written as
  // the zombie would write it must be refused and change nothing.
  const ghost = new NodeStoreWriter(
    system.client,
    system.keyspace,
    toClusterName(c.name),
    before.epoch,
    zombie.identity,
  );
  const probeNode = Object.keys((await system.truth(c)).nodes)[0] ?? 'none';
  const fence = await ghost.applyPodDeltas({ [probeNode]: 1 }).then(
    (seq) => `accepted at seq ${seq}`,
    (err: unknown) =>
      err instanceof FencedError ? 'refused (FencedError)' : `failed: ${(err as Error).message}`,
  );
  const text = await fetchMetrics(zombie.metricsPort);
  const fenced = sumMetric(text, 'knm_watcher_redis_writes_total', { result: 'fenced' });
  const okAfter = sumMetric(text, 'knm_watcher_redis_writes_total', { result: 'ok' });
  const isLeader = sumMetric(text, 'knm_watcher_is_leader');
  const fencedLogs = (zombie.proc.output().match(/"msg":"fenced: another watcher leads/g) ?? []).length;
  const after = await system.meta(c.name);
  return {
    faultAt,
    checks: [
      check(
        'standby took over while the leader was paused',
        tookOver.leader !== zombie.identity,
        `${tookOver.leader} at epoch ${tookOver.epoch}`,
      ),
      check(
        "a write with the zombie's epoch is refused by the fence",
        fence === 'refused (FencedError)',
        `pod delta on ${probeNode} with epoch ${before.epoch}: ${fence}`,
      ),
      check(
        'the zombie stood down and did not lead again',
        isLeader === 0 && after.leader !== zombie.identity,
        `is_leader ${isLeader}, meta leader ${after.leader ?? 'none'}; after waking ${zombieAttempts} write scripts with its epoch ${before.epoch} reached Redis (MONITOR; each refused by the fence), it counted ${fenced} fenced and logged ${fencedLogs}; ok writes ${okBefore} before the pause, ${okAfter} after`,
      ),
      check(
        'the zombie counted every write the fence refused',
        fenced >= zombieAttempts,
        `redis_writes_total{result="fenced"} ${fenced}, write scripts with its epoch after waking (MONITOR) ${zombieAttempts}`,
      ),
    ],
    notes: {
      zombie: zombie.identity,
      pausedMs: wokeAt - faultAt,
      zombieWriteAttempts: zombieAttempts,
      writeScriptsByEpoch: JSON.stringify(Object.fromEntries(epochsWritten)),
      fencedWrites: fenced,
      epochBefore: before.epoch,
      epochAfter: after.epoch,
    },
  };
}

/** Counts, per epoch argument, the node-store write scripts Redis receives (MONITOR). */
interface WriteEpochMonitor {
  stop(): Promise<Map<number, number>>;
}

/**
 * MONITORs the harness' Redis (a `redis-cli monitor` process: a separate program, so
 * a Redis restart or a flood of lines cannot upset this process' clients) for the
 * writer's Lua scripts of `cluster`: every one has the cluster's epoch key as KEYS[1]
 * and the writer's epoch as ARGV[1], so a script carrying a superseded epoch is a
 * zombie's write (which the fence refuses).
 */
function watchWriteEpochs(system: ChaosSystem, cluster: string): Promise<WriteEpochMonitor> {
  const epochKey = system.keyspace.cluster(toClusterName(cluster)).epoch;
  const proc = spawnProcess({
    name: 'redis-monitor',
    command: 'redis-cli',
    args: ['-p', String(system.redis.port), 'monitor'],
    maxOutput: 50_000_000,
  });
  return Promise.resolve({
    stop: async () => {
      await proc.stop('SIGKILL', 1_000);
      return countWriteEpochs(proc.output(), epochKey);
    },
  });
}

/** Per epoch, the write scripts with `epochKey` as KEYS[1] in `redis-cli monitor` output. */
export function countWriteEpochs(monitorOutput: string, epochKey: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of monitorOutput.split('\n')) {
    const at = line.indexOf('] "');
    if (at < 0) continue;
    const args = [...line.slice(at + 2).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? '');
    const command = args[0]?.toLowerCase();
    if (command !== 'evalsha' && command !== 'eval') continue;
    const numKeys = Number(args[2]);
    if (args[3] !== epochKey || !Number.isInteger(numKeys)) continue;
    const epoch = Number(args[3 + numKeys]);
    if (Number.isInteger(epoch)) counts.set(epoch, (counts.get(epoch) ?? 0) + 1);
  }
  return counts;
}

async function combined(ctx: ScenarioContext): Promise<FaultOutcome> {
  const { system } = ctx;
  const c = first(system);
  const faultAt = Date.now();
  const outcomes: FaultOutcome[] = [];
  await forEachSim(ctx, 'faults', { errorRate: { fraction: 0.5, status: 500, seconds: 4 } });
  // Not recovered while the 500s still run: a relist hitting one then can take a
  // cluster out of `ready` again after it looked recovered (seen on a loaded machine).
  const errorsEndAt = Date.now() + 4_000;
  // With a second cluster, its leader is paused now and wakes after everything below.
  const zombieCluster = system.clusters[1];
  // Settled into a value at once: a rejection must not go unhandled while the rest runs.
  const zombie = zombieCluster
    ? zombieLeader(ctx, zombieCluster).then(
        (o) => o,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      )
    : undefined;
  await sleep(500);
  outcomes.push(await killLeader(ctx, c));
  await sleep(500);
  outcomes.push(await killGateway(ctx));
  await sleep(500);
  await forEachSim(ctx, 'faults', { dropWatches: true });
  await sleep(500);
  await forEachSim(ctx, 'faults', { compact: true, resetWatches: true });
  await sleep(500);
  outcomes.push(await restartRedis(ctx));
  if (zombie) {
    const outcome = await zombie;
    if (outcome instanceof Error) throw outcome;
    outcomes.push(outcome);
  }
  return {
    faultAt,
    checks: outcomes.flatMap((o) => o.checks),
    notes: {
      faults: `500s x50% 4 s; kill -9 leader; SIGKILL gateway; dropped watches; compaction + reset; Redis restart${zombieCluster ? '; zombie leader' : ''}, 0.5 s apart`,
    },
    recovered: () => Date.now() >= errorsEndAt && outcomes.every((o) => o.recovered?.() ?? true),
    afterRecovery: async () => {
      const out: ScenarioCheck[] = [];
      for (const o of outcomes) if (o.afterRecovery) out.push(...(await o.afterRecovery()));
      return out.filter((x) => x.name !== 'clients were on the killed gateway');
    },
    restore: async () => {
      for (const o of outcomes) await o.restore?.();
    },
  };
}

/** Every scenario, in the order they run; `combined` overlaps most of them. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'leader-kill',
    description: 'kill -9 of the leading watcher of cluster 1; the standby takes over',
    inject: (ctx) => killLeader(ctx, first(ctx.system)),
  },
  {
    name: 'gateway-kill',
    description: 'SIGKILL of the busiest gateway; its clients move to the other one; it is restarted after',
    inject: killGateway,
  },
  {
    name: 'redis-restart',
    description:
      'Redis SIGKILLed and restarted empty; watchers rebuild, gateways re-subscribe, clients resync',
    reloadsExpected: true,
    inject: restartRedis,
  },
  {
    name: 'watch-drop',
    description: 'every watch ended, then cut, on every kube-sim',
    inject: dropWatches,
  },
  {
    name: 'compaction-410',
    description: 'change log compacted and watches dropped, twice: 410 storm, relists',
    inject: compaction,
  },
  {
    name: 'error-bursts',
    description: 'HTTP 500 on every request for 2 s, then 429 on 70% for 2 s',
    inject: errorBursts,
  },
  {
    name: 'api-outage',
    description:
      'kube-sim of cluster 1 down (listeners closed); status degraded shown to clients, then ready',
    inject: apiOutage,
  },
  {
    name: 'zombie-leader',
    description: 'leader SIGSTOPped past its lease; standby takes over; SIGCONT: the zombie must not write',
    inject: (ctx) => zombieLeader(ctx, first(ctx.system)),
  },
  {
    name: 'combined',
    description:
      'overlapping: 500s, leader kill, gateway kill, dropped watches, 410s, Redis restart (+ zombie)',
    reloadsExpected: true,
    inject: combined,
  },
];
