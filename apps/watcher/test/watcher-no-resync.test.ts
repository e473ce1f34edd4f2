import { afterEach, describe, expect, it } from 'vitest';
import { EnvelopeSchema, decodeJson, type ClusterName, type Envelope } from '@knm/contracts';
import { createTestRedis, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';
import {
  expectConverged,
  metricsPortOf,
  metricValue,
  quiesce,
  redisState,
  spawnWatcher,
  startSim,
  type SimHandle,
} from './harness.js';

/**
 * Issue 14, part 1: API faults, a leader change and a relist reach clients as
 * ordinary envelopes, never as a `resync` (which makes every client reload); only
 * Redis losing its data still does.
 */
const CLUSTER = 'calm';

let redis: TestRedis | undefined;
let sim: SimHandle | undefined;
const procs: ManagedProcess[] = [];

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL', 1_000)));
  await sim?.close();
  await redis?.close();
  sim = undefined;
  redis = undefined;
});

const keysOf = (r: TestRedis) => r.keyspace.cluster(CLUSTER as ClusterName);

async function currentSeq(r: TestRedis): Promise<number> {
  return Number((await r.client.hget(keysOf(r).meta, 'seq')) ?? 0);
}

/** The envelopes of the events stream with seq > afterSeq, oldest first. */
async function streamAfter(r: TestRedis, afterSeq: number): Promise<Envelope[]> {
  const entries = await r.client.xrange(keysOf(r).events, `${afterSeq + 1}-0`, '+');
  return entries.map(([id, fields]) => decodeJson(EnvelopeSchema, fields[1] ?? '', `entry ${id}`));
}

/** Relists after the initial list (410 `expired` or `stuck`) a watcher made, both resources. */
async function relists(port: number): Promise<number> {
  return (
    (await metricValue(port, 'knm_watcher_relists_total', { reason: 'expired' })) +
    (await metricValue(port, 'knm_watcher_relists_total', { reason: 'stuck' }))
  );
}

/**
 * Waits until a label set on a node now (retried while the API refuses it) is in
 * Redis: the leader's node watch is live again. Churn may remove the node meanwhile:
 * then another one is labelled.
 */
async function probe(s: SimHandle, r: TestRedis, value: string): Promise<void> {
  let labelled: string | undefined;
  await waitFor(
    async () => {
      const truth = s.sim.truth().nodes;
      if (labelled !== undefined && truth[labelled] === undefined) labelled = undefined;
      if (labelled === undefined) {
        const [name] = Object.keys(truth);
        await s.patchNode(name as string, { metadata: { labels: { 'knm.test/probe': value } } });
        labelled = name;
      }
      return (await redisState(r, CLUSTER)).nodes[labelled as string]?.labels['knm.test/probe'] === value;
    },
    { timeout: 45_000, interval: 100, what: `the probe label ${value} in Redis` },
  );
}

/** Quiet cluster, Redis equal to the truth, then churn again. */
async function convergeThenChurn(s: SimHandle, r: TestRedis): Promise<void> {
  await quiesce(s);
  await expectConverged(s, r, CLUSTER);
  await s.control('resume');
  await s.control('churn', { rate: 60 });
}

/** The seqs are contiguous and none of the envelopes is a `resync`. */
function expectContinuous(envelopes: readonly Envelope[], afterSeq: number): void {
  expect(envelopes.filter((e) => e.type === 'resync')).toEqual([]);
  expect(envelopes.length).toBeGreaterThan(0);
  envelopes.forEach((e, i) => expect(e.seq).toBe(afterSeq + 1 + i));
}

describe('watcher: no resync for API faults, leader changes and relists', () => {
  it('a 5 s API outage, bursts of 429s and of 500s, and a leader kill: no relist, no resync, seq continues, Redis equals the truth after each', async () => {
    redis = await createTestRedis();
    sim = await startSim({ nodes: 20, pods: 400, seed: 11, jobRunMs: [300, 1_500] });
    const s = sim;
    const r = redis;
    const a = spawnWatcher(s, r, CLUSTER, ['--identity', 'replica-a'], 'watcher-a');
    procs.push(a);
    const aPort = await metricsPortOf(a);
    await a.waitForOutput(/"msg":"watcher ready"/, 30_000);
    const b = spawnWatcher(s, r, CLUSTER, ['--identity', 'replica-b'], 'watcher-b');
    procs.push(b);
    const bPort = await metricsPortOf(b);
    await b.waitForOutput(/"msg":"watcher standby"/, 30_000);
    await waitFor(async () => (await metricValue(bPort, 'knm_watcher_synced')) === 1, {
      timeout: 30_000,
      what: 'the standby to have listed',
    });
    await expectConverged(s, r, CLUSTER);
    const start = await currentSeq(r);
    await s.control('churn', { rate: 60 });
    await probe(s, r, 'churning');

    // A 5 s outage: connections refused.
    await s.control('faults', { downForSeconds: 5 });
    await waitFor(async () => (await r.client.hget(keysOf(r).meta, 'status')) === 'degraded', {
      timeout: 15_000,
      what: 'status degraded during the outage',
    });
    await probe(s, r, 'after-outage');
    await convergeThenChurn(s, r);

    // Every request answered 429 for 3 s, open watches reset.
    const throttledBefore = await metricValue(aPort, 'knm_watcher_errors_total', { error: 'ApiError' });
    await s.control('faults', { errorRate: { fraction: 1, status: 429, seconds: 3 }, resetWatches: true });
    await waitFor(
      async () =>
        (await metricValue(aPort, 'knm_watcher_errors_total', { error: 'ApiError' })) > throttledBefore,
      { timeout: 15_000, what: '429s seen by the leader' },
    );
    await probe(s, r, 'after-429');
    await convergeThenChurn(s, r);

    // Every request answered 500 for 3 s, open watches reset.
    const internalBefore = await metricValue(aPort, 'knm_watcher_errors_total', { error: 'ApiError' });
    await s.control('faults', { errorRate: { fraction: 1, status: 500, seconds: 3 }, resetWatches: true });
    await waitFor(
      async () =>
        (await metricValue(aPort, 'knm_watcher_errors_total', { error: 'ApiError' })) > internalBefore,
      { timeout: 15_000, what: '500s seen by the leader' },
    );
    await probe(s, r, 'after-500');
    await convergeThenChurn(s, r);
    expect(await relists(aPort)).toBe(0);
    // The one rebuild of the empty Redis at start, none since.
    expect(await metricValue(aPort, 'knm_watcher_rebuilds_total')).toBe(1);

    // The leader dies; the standby's warm cache is diffed against Redis.
    a.signal('SIGKILL');
    await a.exited;
    await b.waitForOutput(/"msg":"watcher ready"/, 30_000);
    await probe(s, r, 'after-failover');
    await quiesce(s);
    await expectConverged(s, r, CLUSTER);

    expect(await relists(bPort)).toBe(0);
    expect(await metricValue(bPort, 'knm_watcher_rebuilds_total')).toBe(0);
    expect(await metricValue(bPort, 'knm_watcher_reconciles_total', { reason: 'lead' })).toBe(1);
    expect(await r.client.hget(keysOf(r).meta, 'leader')).toBe('replica-b');
    expectContinuous(await streamAfter(r, start), start);
  }, 180_000);

  it('a 410 (compacted log): exactly one relist per resource, its changes reach the stream as ordinary envelopes, no resync', async () => {
    redis = await createTestRedis();
    sim = await startSim({ nodes: 20, pods: 300, seed: 12 });
    const s = sim;
    const r = redis;
    const watcher = spawnWatcher(s, r, CLUSTER);
    procs.push(watcher);
    const port = await metricsPortOf(watcher);
    await watcher.waitForOutput(/"msg":"watcher ready"/, 30_000);
    await expectConverged(s, r, CLUSTER);
    await s.control('pause');
    const start = await currentSeq(r);
    const syncedBefore = await r.client.hget(keysOf(r).meta, 'syncedAt');

    // Changes the watches never deliver (stalled), then the history is compacted:
    // resuming answers 410, and only the relist can find them.
    await s.control('faults', { stallWatches: true });
    const [edited] = Object.keys(s.sim.truth().nodes);
    await s.patchNode(edited as string, { metadata: { labels: { 'knm.test/missed': 'yes' } } });
    await s.control('step', { events: 200 });
    await s.control('faults', { compact: true, stallWatches: false });
    await waitFor(
      async () =>
        (await metricValue(port, 'knm_watcher_relists_total', { resource: 'nodes', reason: 'expired' })) ===
          1 &&
        (await metricValue(port, 'knm_watcher_relists_total', { resource: 'pods', reason: 'expired' })) === 1,
      { timeout: 20_000, what: 'a relist of each resource after 410' },
    );
    const state = await expectConverged(s, r, CLUSTER);
    expect(state.nodes[edited as string]?.labels['knm.test/missed']).toBe('yes');

    const envelopes = await streamAfter(r, start);
    expectContinuous(envelopes, start);
    expect(
      envelopes.some(
        (e) => e.type === 'node_update' && e.node === edited && e.data.labels['knm.test/missed'] === 'yes',
      ),
    ).toBe(true);
    expect(envelopes.some((e) => e.type === 'pod_counts')).toBe(true);
    expect(await relists(port)).toBe(2);
    expect(await metricValue(port, 'knm_watcher_reconciles_total', { reason: 'relist' })).toBe(2);
    // The one rebuild of the empty Redis at start, none since.
    expect(await metricValue(port, 'knm_watcher_rebuilds_total')).toBe(1);
    // syncedAt records the relist.
    const syncedAfter = await r.client.hget(keysOf(r).meta, 'syncedAt');
    expect(syncedAfter! > syncedBefore!).toBe(true);
  }, 90_000);

  it('a failed Redis write is repaired by writing the differences (no rebuild, no resync)', async () => {
    redis = await createTestRedis();
    sim = await startSim({ nodes: 10, pods: 100, seed: 14 });
    const s = sim;
    const r = redis;
    const watcher = spawnWatcher(s, r, CLUSTER);
    procs.push(watcher);
    const port = await metricsPortOf(watcher);
    await watcher.waitForOutput(/"msg":"watcher ready"/, 30_000);
    await expectConverged(s, r, CLUSTER);
    const start = await currentSeq(r);
    const k = keysOf(r);
    const [first, second] = Object.keys(s.sim.truth().nodes);

    // The nodes hash turns into a string: every node write (and the repair's read) fails.
    const saved = await r.client.hgetall(k.nodes);
    await r.client.del(k.nodes);
    await r.client.set(k.nodes, 'not a hash');
    await s.patchNode(first as string, { metadata: { labels: { 'knm.test/during': 'failure' } } });
    await waitFor(
      async () =>
        (await metricValue(port, 'knm_watcher_redis_writes_total', { kind: 'nodes', result: 'error' })) >= 1,
      { timeout: 15_000, what: 'a failed node write' },
    );
    await waitFor(
      async () => (await metricValue(port, 'knm_watcher_sync_state', { state: 'repairing' })) === 1,
      {
        timeout: 15_000,
        what: 'the watcher repairing',
      },
    );
    await s.patchNode(second as string, { metadata: { labels: { 'knm.test/during': 'repair' } } });
    // Redis works again, holding the state from before the failure.
    await r.client.del(k.nodes);
    await r.client.hset(k.nodes, saved);

    await waitFor(
      async () => (await metricValue(port, 'knm_watcher_reconciles_total', { reason: 'repair' })) >= 1,
      {
        timeout: 30_000,
        what: 'the repair',
      },
    );
    const state = await expectConverged(s, r, CLUSTER);
    expect(state.nodes[first as string]?.labels['knm.test/during']).toBe('failure');
    expect(state.nodes[second as string]?.labels['knm.test/during']).toBe('repair');
    const envelopes = await streamAfter(r, start);
    expectContinuous(envelopes, start);
    expect(
      envelopes
        .filter((e) => e.type === 'node_update')
        .map((e) => e.node)
        .sort(),
    ).toEqual([first, second].sort());
    // The one rebuild of the empty Redis at start, none since.
    expect(await metricValue(port, 'knm_watcher_rebuilds_total')).toBe(1);
  }, 90_000);

  it('Redis loses the cluster’s data: exactly one resync (the one case left), then exact again', async () => {
    redis = await createTestRedis();
    sim = await startSim({ nodes: 10, pods: 100, seed: 13 });
    const s = sim;
    const r = redis;
    const watcher = spawnWatcher(s, r, CLUSTER, ['--identity', 'replica-a']);
    procs.push(watcher);
    const port = await metricsPortOf(watcher);
    await watcher.waitForOutput(/"msg":"watcher ready"/, 30_000);
    await expectConverged(s, r, CLUSTER);
    const before = await currentSeq(r);
    const k = keysOf(r);
    await r.client.del(k.nodes, k.pods, k.meta, k.events, k.lease, k.epoch);

    // The empty Redis at start was the first.
    expect(await metricValue(port, 'knm_watcher_rebuilds_total')).toBe(1);
    await waitFor(async () => (await metricValue(port, 'knm_watcher_rebuilds_total')) === 2, {
      timeout: 30_000,
      what: 'a rebuild after the data loss',
    });
    await expectConverged(s, r, CLUSTER);
    const envelopes = await streamAfter(r, 0);
    expect(envelopes.filter((e) => e.type === 'resync')).toHaveLength(1);
    // The lease's data-loss path moved seq past the old life.
    expect(envelopes[0]?.seq).toBeGreaterThan(before);
    expect(await metricValue(port, 'knm_watcher_rebuilds_total')).toBe(2);
  }, 90_000);
});
