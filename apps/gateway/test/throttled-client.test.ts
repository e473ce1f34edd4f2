import { isDeepStrictEqual } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, exponentialBackoff, type KnmClient } from '@knm/client';
import type { NodeSnapshot } from '@knm/contracts';
import {
  createTestRedis,
  startThrottleProxy,
  waitFor,
  type ManagedProcess,
  type TestRedis,
  type ThrottleProxy,
} from '@knm/testing';
import { startGateway, token, type RunningGateway } from './support/gateway-harness.js';
import { spawnWatcher, startSim, type SimHandle } from './support/sim-harness.js';

/**
 * Issue 14's throttled client: a real SDK client behind a TCP proxy that reads 16 KB/s
 * from the gateway, through 30 s of churn. It must be switched to merged delivery
 * (batches), never told to reload, never dropped, with the gateway's backlog for it
 * bounded, and equal to the truth within 5 s once the watcher has written the last change.
 * The SDK acks what it applied, so what is in flight on the slow link (the proxy's and
 * the kernels' buffers, which the gateway's own buffers never see) stays bounded too.
 */
const CLUSTER = 'dev';
const CHURN_SECONDS = 30;
let redis: TestRedis;
let sim: SimHandle;
let watcher: ManagedProcess;
let gateway: RunningGateway;
let proxy: ThrottleProxy;
const clients: KnmClient[] = [];

beforeEach(async () => {
  redis = await createTestRedis();
  sim = await startSim({ nodes: 30, pods: 600, seed: 14, jobRunMs: [300, 1_500] });
  watcher = spawnWatcher(sim, redis, CLUSTER);
  await watcher.waitForOutput(/"msg":"watcher ready"/, 45_000);
  // Paced as in production (the default KNM_WS_LIVE_RATE).
  gateway = await startGateway(redis, { liveRate: 20 }, 'gw-throttled');
  proxy = await startThrottleProxy({
    targetPort: Number(new URL(gateway.url).port),
    bytesPerSecond: 16 * 1024,
  });
}, 90_000);

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await proxy?.close();
  await gateway?.close();
  await watcher?.stop('SIGTERM', 5_000);
  await sim?.close();
  await redis?.close();
});

function truthNodes(): NodeSnapshot[] {
  return Object.values(sim.sim.truth().nodes).sort((a, b) => (a.name < b.name ? -1 : 1));
}

async function redisEqualsTruth(): Promise<boolean> {
  const keys = redis.keyspace.cluster(CLUSTER as never);
  const stored = await redis.client.hgetall(keys.nodes);
  const truth = truthNodes();
  if (Object.keys(stored).length !== truth.length) return false;
  return truth.every(
    (n) => stored[n.name] !== undefined && isDeepStrictEqual(JSON.parse(stored[n.name] as string), n),
  );
}

async function backlogMax(): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('knm_gateway_socket_backlog_bytes_max '));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

describe('a client that reads 16 KB/s through 30 s of churn', { timeout: 180_000 }, () => {
  it('gets merged batches, never a reload or a disconnect, a bounded backlog, and is exact within 5 s', async () => {
    const viewer = await token();
    const throttled = connect({
      url: proxy.url,
      token: viewer,
      backoff: exponentialBackoff({ initialMs: 200, maxMs: 2_000 }),
    });
    clients.push(throttled);
    const states: string[] = [];
    throttled.on('state', (s) => states.push(s));
    const watch = throttled.watchCluster(CLUSTER);
    const reloads: string[] = [];
    watch.on('reload', (r) => {
      if (r.reason !== 'initial') reloads.push(r.reason);
    });
    await watch.ready();
    expect(states).toEqual(['connected']);

    let peak = 0;
    const sampler = setInterval(() => {
      void backlogMax().then((b) => (peak = Math.max(peak, b)));
    }, 500);
    try {
      await sim.control('churn', { rate: 300 });
      // The churn's duration is what is under test, not a wait for a condition.
      await new Promise((resolve) => setTimeout(resolve, CHURN_SECONDS * 1000));
      await sim.control('churn', { rate: 0 });
    } finally {
      clearInterval(sampler);
    }
    await waitFor(redisEqualsTruth, { timeout: 30_000, interval: 200, what: 'Redis equal to the truth' });
    const quietAt = Date.now();
    // The simulated controllers go on (jobs finish, pods move): compare with the truth of the moment.
    await waitFor(
      () => {
        const truth = truthNodes();
        const { podCounts: counts, allocation } = sim.sim.truth();
        const view = watch.nodes();
        return (
          view.length === truth.length &&
          isDeepStrictEqual(watch.view.allocations(), allocation) &&
          view.every((n, i) => {
            const { podCount, podCapacity: _capacity, resources: _resources, ...node } = n;
            return isDeepStrictEqual(node, truth[i]) && podCount === (counts[n.name] ?? 0);
          })
        );
      },
      { timeout: 5_000, interval: 50, what: 'the throttled view equal to the truth' },
    );
    const convergedMs = Date.now() - quietAt;
    peak = Math.max(peak, await backlogMax());

    expect(proxy.bytesDelivered).toBeGreaterThan(CHURN_SECONDS * 8 * 1024);
    expect(watch.stats.batches).toBeGreaterThan(0);
    expect(watch.stats.reloads).toBe(0);
    expect(watch.stats.gaps).toBe(0);
    expect(watch.stats.wholeStateBatches).toBe(0);
    expect(reloads).toEqual([]);
    expect(states).toEqual(['connected']);
    // What the gateway holds for it: one live backlog bound (1 MiB) plus a message, never the churn's volume.
    expect(peak).toBeLessThan(1.5 * 1024 * 1024);
    expect(convergedMs).toBeLessThan(5_000);
  });
});
