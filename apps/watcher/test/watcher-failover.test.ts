import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterMetaSchema, decode, type ClusterName, type NodeSnapshot } from '@knm/contracts';
import { HttpListerWatcher, KubeHttpClient } from '@knm/kube-reflector';
import { KubeConfig } from '@kubernetes/client-node';
import { projectNode, type KubeNodeLike } from '@knm/contracts';
import { createTestRedis, sleep, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';
import {
  expectConverged,
  metricsPortOf,
  quiesce,
  spawnWatcher,
  startSim,
  type SimHandle,
} from './harness.js';

const run = promisify(execFile);

let redis: TestRedis | undefined;
let sim: SimHandle | undefined;
const procs: ManagedProcess[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL', 1_000)));
  await sim?.close();
  await redis?.close();
  sim = undefined;
  redis = undefined;
});

describe('watcher: leadership', () => {
  it('kill -9 of the leader: the standby takes over within seconds and the state converges', async () => {
    const cluster = 'ha';
    redis = await createTestRedis();
    sim = await startSim({ nodes: 20, pods: 400, seed: 9, jobRunMs: [300, 1_500] });
    const a = spawnWatcher(sim, redis, cluster, ['--identity', 'replica-a'], 'watcher-a');
    procs.push(a);
    await a.waitForOutput(/"msg":"watcher ready"/, 30_000);
    const b = spawnWatcher(sim, redis, cluster, ['--identity', 'replica-b'], 'watcher-b');
    procs.push(b);
    const bPort = await metricsPortOf(b);
    await b.waitForOutput(/"msg":"watcher standby"/, 30_000);
    // The standby is ready (as a standby) and not leading.
    const standbyReady = (await (await fetch(`http://127.0.0.1:${bPort}/readyz`)).json()) as { role: string };
    expect(standbyReady.role).toBe('standby');

    await sim.control('churn', { rate: 60 });
    await sleep(1_000);
    const killedAt = Date.now();
    a.signal('SIGKILL');
    await a.exited;
    const meta = redis.keyspace.cluster(cluster as ClusterName).meta;
    await b.waitForOutput(/"msg":"watcher ready"/, 30_000);
    const takeoverMs = Date.now() - killedAt;
    console.log(`failover: standby ready ${takeoverMs} ms after kill -9 of the leader (lease TTL 2000 ms)`);
    expect(takeoverMs).toBeLessThan(10_000);
    const m = decode(ClusterMetaSchema, await redis.client.hgetall(meta), 'meta');
    expect(m.leader).toBe('replica-b');
    expect(m.epoch).toBe(2);
    await sleep(1_000);
    await quiesce(sim);
    await expectConverged(sim, redis, cluster);
  }, 120_000);

  it('SIGTERM: flushes, releases the lease (standby takes over at once), exits 0', async () => {
    const cluster = 'graceful';
    redis = await createTestRedis();
    sim = await startSim({ nodes: 10, pods: 100, seed: 4 });
    const a = spawnWatcher(
      sim,
      redis,
      cluster,
      ['--identity', 'replica-a', '--lease-ttl-ms', '20000'],
      'watcher-a',
    );
    procs.push(a);
    await a.waitForOutput(/"msg":"watcher ready"/, 30_000);
    const b = spawnWatcher(
      sim,
      redis,
      cluster,
      ['--identity', 'replica-b', '--lease-ttl-ms', '20000'],
      'watcher-b',
    );
    procs.push(b);
    await b.waitForOutput(/"msg":"watcher standby"/, 30_000);
    const stoppedAt = Date.now();
    const exit = await a.stop('SIGTERM', 15_000);
    expect(exit.code).toBe(0);
    await b.waitForOutput(/"msg":"watcher ready"/, 15_000);
    // Well under the 20 s TTL: the lease was released, not left to expire.
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    await expectConverged(sim, redis, cluster, {});
  }, 90_000);

  it('a label set with the real kubectl reaches Redis and the channel well under a second later', async () => {
    const cluster = 'latency';
    redis = await createTestRedis();
    sim = await startSim({ nodes: 10, pods: 100, seed: 2 });
    const w = spawnWatcher(sim, redis, cluster);
    procs.push(w);
    await w.waitForOutput(/"msg":"watcher ready"/, 30_000);

    // Our own watch on the API tells when the change happened there.
    const kc = new KubeConfig();
    kc.loadFromFile(sim.kubeconfigPath);
    const lw = new HttpListerWatcher<NodeSnapshot>(new KubeHttpClient(kc), {
      resource: 'nodes',
      path: '/api/v1/nodes',
      project: (raw) => projectNode(raw as KubeNodeLike),
    });
    const abort = new AbortController();
    cleanups.push(() => abort.abort());
    const seenAtApi = new Map<string, number>();
    const stream = await lw.watch(
      { resourceVersion: sim.sim.truth().resourceVersion, timeoutSeconds: 60, allowBookmarks: false },
      abort.signal,
    );
    void (async () => {
      for await (const batch of stream) {
        for (const e of batch) {
          if (e.type === 'MODIFIED') {
            const v = e.object.labels['knm.test/latency'];
            if (v && !seenAtApi.has(v)) seenAtApi.set(v, performance.now());
          }
        }
      }
    })().catch(() => undefined);

    const sub = redis.connect();
    const seenOnChannel = new Map<string, number>();
    sub.on('message', (_c: string, m: string) => {
      const e = JSON.parse(m) as { type: string; data: { labels?: Record<string, string> } };
      const v = e.data.labels?.['knm.test/latency'];
      if (e.type === 'node_update' && v && !seenOnChannel.has(v)) seenOnChannel.set(v, performance.now());
    });
    await sub.subscribe(redis.keyspace.cluster(cluster as ClusterName).changes);
    const nodesKey = redis.keyspace.cluster(cluster as ClusterName).nodes;
    const node = Object.keys(sim.sim.truth().nodes)[1] as string;

    const lags: number[] = [];
    const endToEnd: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const value = `v${i}`;
      const started = performance.now();
      await run('kubectl', [
        '--kubeconfig',
        sim.kubeconfigPath,
        'label',
        'node',
        node,
        `knm.test/latency=${value}`,
        '--overwrite',
      ]);
      const inRedis = await waitFor(
        async () => {
          const json = await redis!.client.hget(nodesKey, node);
          return json && (JSON.parse(json) as NodeSnapshot).labels['knm.test/latency'] === value
            ? performance.now()
            : false;
        },
        { timeout: 5_000, interval: 2, what: `label ${value} in Redis` },
      );
      const onChannel = await waitFor(() => seenOnChannel.get(value), {
        timeout: 5_000,
        what: 'the envelope',
      });
      const atApi = await waitFor(() => seenAtApi.get(value), { timeout: 5_000, what: 'the API event' });
      lags.push(Math.max(onChannel, inRedis) - atApi);
      endToEnd.push(onChannel - started);
    }
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
    console.log(`kubectl label -> watch event at the API -> Redis + channel: ${fmt(lags)} ms (watcher lag)`);
    console.log(
      `kubectl label start -> envelope on the channel: ${fmt(endToEnd)} ms (includes kubectl start-up)`,
    );
    for (const lag of lags) expect(lag).toBeLessThan(500);
  }, 90_000);
});
