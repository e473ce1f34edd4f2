import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EnvelopeSchema,
  UsageSnapshotSchema,
  decodeJson,
  toClusterName,
  type UsageSnapshot,
} from '@knm/contracts';
import { KubeHttpClient, MetricsClient } from '@knm/kube-reflector';
import { NodeStoreWriter } from '@knm/node-store';
import { createTestRedis, waitFor, type TestRedis } from '@knm/testing';
import { startSim, type SimHandle } from './harness.js';
import { UsagePoller } from '../src/usage-poller.js';

const cluster = toClusterName('dev');

/**
 * A stand-in API server over real HTTP for what kube-sim cannot do: an aggregated
 * metrics.k8s.io whose APIService has no ready backend (503), or that never answers;
 * and, to check the parse of both quantity forms, a NodeMetrics list as
 * metrics-server shapes it.
 */
class MetricsServer {
  mode: 'metrics' | 404 | 503 | 'hang' = 'metrics';
  requests = 0;
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.requests += 1;
      if (req.headers.authorization !== 'Bearer t0ken') return void res.writeHead(401).end();
      if (req.url !== '/apis/metrics.k8s.io/v1beta1/nodes') return void res.writeHead(404).end();
      if (this.mode === 'hang') return; // never answers
      if (this.mode !== 'metrics') {
        const status = this.mode;
        res.writeHead(status, { 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            message:
              status === 404 ? 'the server could not find the requested resource' : 'service unavailable',
            reason: status === 404 ? 'NotFound' : 'ServiceUnavailable',
            code: status,
          }),
        );
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'NodeMetricsList',
          apiVersion: 'metrics.k8s.io/v1beta1',
          metadata: {},
          items: [
            {
              metadata: { name: 'node-a', creationTimestamp: '2026-12-02T02:00:00Z' },
              timestamp: '2026-12-02T01:59:50Z',
              window: '20.004s',
              usage: { cpu: '250123456n', memory: '1048576Ki' },
            },
            {
              metadata: { name: 'node-b', creationTimestamp: '2026-12-02T02:00:00Z' },
              timestamp: '2026-12-02T01:59:55Z',
              window: '15s',
              usage: { cpu: '1500m', memory: '2Gi' },
            },
            {
              metadata: { name: 'node-c' },
              timestamp: '2026-12-02T01:59:55Z',
              window: '15s',
              usage: { cpu: 'x' },
            },
          ],
        }),
      );
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't0ken' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

let t: TestRedis;
let api: MetricsServer;
let sim: SimHandle | undefined;
let poller: UsagePoller | undefined;
let writer: NodeStoreWriter;
let transitions: UsageSnapshot[];
let metrics: MetricsClient;

beforeEach(async () => {
  t = await createTestRedis();
  api = new MetricsServer();
  metrics = new MetricsClient(new KubeHttpClient(kubeConfigFor(await api.start())));
  const epoch = await t.client.incr(t.keyspace.cluster(cluster).epoch);
  writer = new NodeStoreWriter(t.client, t.keyspace, cluster, epoch, 'w');
  transitions = [];
});
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
  await api.close();
  await sim?.close();
  sim = undefined;
  await t.close();
});

/** Polls kube-sim (in this process, over HTTP) instead of the stand-in. */
async function useKubeSim(options: { metrics?: boolean } = {}): Promise<SimHandle> {
  sim = await startSim({ nodes: 4, pods: 30, seed: 9, metricsResolutionSeconds: 1, ...options });
  const kc = new KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  metrics = new MetricsClient(new KubeHttpClient(kc));
  return sim;
}

function startPoller(intervalMs: number): UsagePoller {
  poller = new UsagePoller({
    metrics,
    intervalMs,
    write: (snapshot) => writer.setUsage(snapshot),
    onTransition: (snapshot) => transitions.push(snapshot),
  });
  poller.start();
  return poller;
}

const usageEnvelopes = async () =>
  (await t.client.xrange(t.keyspace.cluster(cluster).events, '-', '+'))
    .map(([, fields]) => decodeJson(EnvelopeSchema, fields[1] ?? '', 'entry'))
    .filter((e) => e.type === 'usage');
const stored = async () =>
  decodeJson(UsageSnapshotSchema, (await t.client.get(t.keyspace.cluster(cluster).usage)) ?? '', 'usage');

describe('UsagePoller against kube-sim', () => {
  it('writes what metrics.k8s.io serves: every node, cpu rounded up to millicores, memory in bytes, its timestamp and window', async () => {
    const s = await useKubeSim();
    startPoller(100);
    await waitFor(
      async () => {
        const truth = s.sim.truth().usage;
        const usage = await stored().catch(() => undefined);
        if (!truth || !usage?.available || usage.timestamp !== truth.timestamp) return false;
        const expected = Object.fromEntries(
          Object.entries(truth.nodes).map(([name, u]) => [name, { cpu: Math.ceil(u.cpu), memory: u.memory }]),
        );
        expect(usage.nodes).toEqual(expected);
        expect(usage.window).toBe(truth.window);
        return Object.keys(expected).length > 0;
      },
      { what: 'a poll of the current metrics snapshot' },
    );
    expect(transitions.map((u) => u.available)).toEqual([true]);
  });

  it('no metrics API (404): unavailable, written once while it keeps checking', async () => {
    const s = await useKubeSim({ metrics: false });
    startPoller(30);
    const notFound = async () =>
      ((await (await fetch(`${s.sim.url}/_sim/stats`)).json()) as { responsesByCode: Record<string, number> })
        .responsesByCode['404'] ?? 0;
    await waitFor(async () => (await notFound()) >= 5, { what: 'five polls answered 404' });
    expect(await usageEnvelopes()).toHaveLength(1);
    expect(await stored()).toMatchObject({
      available: false,
      reason: 'the cluster serves no metrics.k8s.io API (is metrics-server installed?)',
    });
    expect(transitions).toHaveLength(1);
  });

  it('a failing metrics API (500s) is unavailable with its error until it answers again', async () => {
    const s = await useKubeSim();
    startPoller(30);
    await waitFor(async () => (await stored().catch(() => undefined))?.available === true, { what: 'usage' });
    await s.control('faults', { errorRate: { fraction: 1, status: 500 } });
    await waitFor(async () => (await stored()).available === false, { what: 'unavailable' });
    expect(await stored()).toMatchObject({ reason: expect.stringContaining('HTTP 500') as string });
    await s.control('faults', { clear: true });
    await waitFor(async () => (await stored()).available, { what: 'usage back' });
    expect(transitions.map((u) => u.available)).toEqual([true, false, true]);
  });
});

describe('UsagePoller against a stand-in API server', () => {
  it('writes one snapshot of every node per poll, in base units, with the newest timestamp and its window', async () => {
    startPoller(50);
    await waitFor(async () => (await usageEnvelopes()).length >= 3, { what: 'three polls' });
    const usage = await stored();
    expect(usage).toMatchObject({
      available: true,
      timestamp: '2026-12-02T01:59:55Z',
      window: '15s',
      nodes: { 'node-a': { cpu: 251, memory: 2 ** 30 }, 'node-b': { cpu: 1500, memory: 2 * 2 ** 30 } },
    });
    expect(Object.keys(usage.available ? usage.nodes : {})).toEqual(['node-a', 'node-b']);
    // One envelope per poll, each carrying the whole poll.
    const envelopes = await usageEnvelopes();
    expect(envelopes.length).toBeLessThanOrEqual(api.requests);
    expect(transitions.map((s) => s.available)).toEqual([true]);
  });

  it('unavailable with a reason, written once per reason (404, then an APIService without backend: 503) while it keeps checking; back when it returns', async () => {
    api.mode = 404;
    startPoller(30);
    await waitFor(() => api.requests >= 5, { what: 'five polls' });
    expect(await usageEnvelopes()).toHaveLength(1);
    expect(await stored()).toMatchObject({
      available: false,
      reason: expect.stringContaining('metrics-server') as string,
    });
    expect(poller?.available).toBe(false);

    api.mode = 503;
    const at503 = api.requests;
    await waitFor(() => api.requests >= at503 + 5, { what: 'five more polls' });
    const envelopes = await usageEnvelopes();
    expect(envelopes).toHaveLength(2);
    expect(await stored()).toMatchObject({
      available: false,
      reason: expect.stringContaining('503') as string,
    });

    api.mode = 'metrics';
    await waitFor(async () => (await stored()).available, { what: 'usage back' });
    expect(transitions.map((s) => (s.available ? 'available' : s.reason.slice(0, 40)))).toEqual([
      'the cluster serves no metrics.k8s.io API',
      'the metrics.k8s.io API is unavailable (5',
      'available',
    ]);
  });

  it('stop aborts a poll in flight and resolves; nothing is written after it', async () => {
    startPoller(20);
    await waitFor(async () => (await usageEnvelopes()).length >= 1, { what: 'a poll' });
    api.mode = 'hang';
    const hung = api.requests;
    await waitFor(() => api.requests > hung, { what: 'a poll waiting for its answer' });
    const count = (await usageEnvelopes()).length;
    await poller?.stop();
    api.mode = 'metrics';
    expect((await usageEnvelopes()).length).toBe(count);
  });
});
