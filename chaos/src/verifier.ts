import { sleep } from '@knm/testing';
import type { ChaosSystem } from './chaos-system.js';
import { viewState, type TrackedWatch } from './client-pool.js';
import { describeDiff, diffSize, diffState, type ComparableState } from './state-diff.js';

/** What the verifier found for one cluster once the system was quiet. */
export interface ClusterVerdict {
  cluster: string;
  status: string;
  seq: number;
  nodes: number;
  /** Differences between Redis and the truth. */
  redisDiffs: number;
  /** Watches whose view differs from the truth, or that are not live at Redis' seq. */
  clientsMismatched: number;
  /** Differences summed over every client's view. */
  clientDiffs: number;
  /** Envelopes applied out of order (must be 0). */
  unhandledGaps: number;
  /** Redis + client differences + unhandled gaps: the events lost. */
  eventsLost: number;
  detail: string[];
}

/**
 * Waits until, for every cluster, Redis equals `/_sim/truth` and every watch is live
 * at Redis' seq with a view equal to the truth (or `timeoutMs` passes), then reports
 * what differs. Call it with churn stopped. `gapsBefore` is each watch's
 * unhandled-gap count at the start of the scenario.
 */
export async function verifyQuiet(
  system: ChaosSystem,
  watches: readonly TrackedWatch[],
  gapsBefore: ReadonlyMap<TrackedWatch, number>,
  timeoutMs: number,
): Promise<ClusterVerdict[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const verdicts = await Promise.all(
      system.clusters.map((c) =>
        verifyCluster(
          system,
          c.name,
          watches.filter((w) => w.cluster === c.name),
          gapsBefore,
        ).catch((err: unknown) => failed(c.name, err)),
      ),
    );
    if (verdicts.every((v) => v.eventsLost === 0 && v.status === 'ready') || Date.now() > deadline)
      return verdicts;
    await sleep(250);
  }
}

async function verifyCluster(
  system: ChaosSystem,
  cluster: string,
  watches: readonly TrackedWatch[],
  gapsBefore: ReadonlyMap<TrackedWatch, number>,
): Promise<ClusterVerdict> {
  const c = system.cluster(cluster);
  const truthRaw = await system.truth(c);
  const truth: ComparableState = {
    nodes: truthRaw.nodes,
    podCounts: truthRaw.podCounts,
    allocation: truthRaw.allocation,
  };
  const [redis, meta] = await Promise.all([system.redisState(cluster), system.meta(cluster)]);
  const redisDiff = diffState(truth, redis);
  const detail: string[] = [];
  if (diffSize(redisDiff) > 0) detail.push(`redis: ${describeDiff(truth, redis, redisDiff)}`);
  let clientsMismatched = 0;
  let clientDiffs = 0;
  let unhandledGaps = 0;
  for (const w of watches) {
    unhandledGaps += w.unhandledGaps - (gapsBefore.get(w) ?? 0);
    const view = viewState(w.watch);
    const diff = diffState(truth, view);
    const size = diffSize(diff);
    const atSeq = w.watch.state === 'live' && w.watch.seq === redis.seq;
    if (size > 0 || !atSeq) {
      clientsMismatched += 1;
      clientDiffs += size;
      if (detail.length < 6) {
        detail.push(
          `client ${w.client}: ${w.watch.state} at seq ${w.watch.seq} (redis ${redis.seq})${size ? `; ${describeDiff(truth, view, diff)}` : ''}`,
        );
      }
    }
  }
  // A watch not at Redis' seq has not caught up yet: while waiting that is not a loss; the
  // final verdict counts it as one (its view is behind), at least one event.
  const lagging = clientsMismatched > 0 && clientDiffs === 0 ? clientsMismatched : 0;
  return {
    cluster,
    status: meta.status,
    seq: redis.seq,
    nodes: Object.keys(redis.nodes).length,
    redisDiffs: diffSize(redisDiff),
    clientsMismatched,
    clientDiffs,
    unhandledGaps,
    eventsLost: diffSize(redisDiff) + clientDiffs + lagging + unhandledGaps,
    detail,
  };
}

function failed(cluster: string, err: unknown): ClusterVerdict {
  return {
    cluster,
    status: 'unknown',
    seq: 0,
    nodes: 0,
    redisDiffs: 0,
    clientsMismatched: 0,
    clientDiffs: 0,
    unhandledGaps: 0,
    eventsLost: 1,
    detail: [`could not verify: ${(err as Error).message}`],
  };
}

/**
 * Waits (with churn running) until every cluster is `ready` with a leader of ours and
 * every watch is live at or past the seq Redis had when the check began (and `extra`
 * holds): the moment the system has recovered from a fault. Resolves with that
 * moment (ms epoch).
 */
export async function waitRecovered(
  system: ChaosSystem,
  watches: readonly TrackedWatch[],
  timeoutMs: number,
  extra: () => boolean = () => true,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`not recovered within ${timeoutMs} ms`);
    try {
      const targets = new Map<string, number>();
      let ready = true;
      for (const c of system.clusters) {
        const meta = await system.meta(c.name);
        if (meta.status !== 'ready' || !(await system.leader(c))) ready = false;
        targets.set(c.name, meta.seq);
      }
      if (ready) {
        const caughtUp = (): boolean =>
          extra() &&
          watches.every((w) => w.watch.state === 'live' && w.watch.seq >= (targets.get(w.cluster) ?? 0));
        const until = Math.min(deadline, Date.now() + 5_000);
        while (!caughtUp() && Date.now() < until) await sleep(25);
        // Still ready once caught up (a fault still running can take a cluster out of it meanwhile).
        if (caughtUp() && (await allReady(system))) return Date.now();
      }
    } catch {
      // Redis restarting: try again.
    }
    await sleep(100);
  }
}

async function allReady(system: ChaosSystem): Promise<boolean> {
  for (const c of system.clusters) {
    if ((await system.meta(c.name)).status !== 'ready' || !(await system.leader(c))) return false;
  }
  return true;
}
