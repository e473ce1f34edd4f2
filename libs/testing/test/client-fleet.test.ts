import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signToken } from '@knm/auth';
import {
  createTestRedis,
  gatewayUrl,
  spawnApp,
  spawnTestGateway,
  spawnTestWatcher,
  startClientFleet,
  viewDigest,
  waitFor,
  type ClientFleet,
  type ManagedProcess,
  type TestRedis,
  type ViewDigest,
} from '../src/index.js';

const SECRET = 'fleet-test-secret-0123456789abcdef0123456789';
const SIM_TOKEN = 'fleet-test-sim-token';
const CLUSTER = 'fleet';

/** kube-sim in its own process (this project cannot import @knm/fake-cluster: it depends on us). */
interface Sim {
  url: string;
  truth(): Promise<{
    nodes: Record<string, { resourceVersion: string }>;
    podCounts: Record<string, number>;
    allocation: Record<string, { requests: Record<string, number>; limits: Record<string, number> }>;
  }>;
  step(events: number): Promise<void>;
  patchLabel(node: string, key: string, value: string): Promise<void>;
}

async function startSim(kubeconfigPath: string): Promise<Sim> {
  const proc = spawnApp('kube-sim', [
    '--port',
    '0',
    '--nodes',
    '30',
    '--pods',
    '300',
    '--seed',
    '2',
    '--kubeconfig-out',
    kubeconfigPath,
    '--token',
    SIM_TOKEN,
  ]);
  procs.push(proc);
  const [, url] = await proc.waitForOutput(/"url":"(http:[^"]+)"/, 60_000);
  const base = url as string;
  const auth = { authorization: `Bearer ${SIM_TOKEN}` };
  return {
    url: base,
    async truth() {
      const res = await fetch(`${base}/_sim/truth`);
      return (await res.json()) as Awaited<ReturnType<Sim['truth']>>;
    },
    async step(events) {
      const res = await fetch(`${base}/_sim/step`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      expect(res.status).toBe(200);
    },
    async patchLabel(node, key, value) {
      const res = await fetch(`${base}/api/v1/nodes/${node}`, {
        method: 'PATCH',
        headers: { ...auth, 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ metadata: { labels: { [key]: value } } }),
      });
      expect(res.status).toBe(200);
    },
  };
}

let redis: TestRedis | undefined;
let fleet: ClientFleet | undefined;
let dir: string | undefined;
const procs: ManagedProcess[] = [];

afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL', 1_000)));
  await redis?.close();
  redis = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function startGateway(r: TestRedis): Promise<{ proc: ManagedProcess; url: string }> {
  // Every folded batch compressed, however small: the fleet's resumes inflate them.
  const proc = spawnTestGateway({
    redis: r,
    jwtSecret: SECRET,
    args: ['--log-level', 'info'],
    env: { KNM_WS_COMPRESS_MIN_BYTES: '0' },
  });
  procs.push(proc);
  return { proc, url: await gatewayUrl(proc) };
}

async function truthDigest(s: Sim): Promise<Omit<ViewDigest, 'seq'>> {
  const truth = await s.truth();
  const nodes = Object.fromEntries(Object.entries(truth.nodes).map(([name, n]) => [name, n.resourceVersion]));
  const { seq: _seq, ...digest } = viewDigest(0, nodes, truth.podCounts, truth.allocation);
  return digest;
}

/** True when every client's view equals the truth and all are at one seq. */
async function converged(f: ClientFleet, s: Sim): Promise<boolean> {
  const want = await truthDigest(s);
  const views = await f.views();
  return (
    new Set(views.map((v) => v.seq)).size === 1 &&
    views.every(
      (v) =>
        v.nodesSha === want.nodesSha && v.podsSha === want.podsSha && v.allocationSha === want.allocationSha,
    ) &&
    // One usage poll for all (what the watcher polled, not the simulator's moving metrics).
    new Set(views.map((v) => v.usageSha)).size === 1
  );
}

describe('startClientFleet', () => {
  it('keeps every client equal to the truth over two gateways, measures probes, and resumes after a gateway dies', async () => {
    redis = await createTestRedis();
    dir = await mkdtemp(join(tmpdir(), 'knm-fleet-'));
    const kubeconfigPath = join(dir, 'sim.kubeconfig');
    const sim = await startSim(kubeconfigPath);
    const watcher = spawnTestWatcher({
      cluster: CLUSTER,
      kubeconfigPath,
      redis: { url: redis.url, namespace: redis.namespace },
    });
    procs.push(watcher);
    const [, [g1, g2]] = await Promise.all([
      watcher.waitForOutput(/"msg":"watcher ready"/, 60_000),
      Promise.all([startGateway(redis), startGateway(redis)]),
    ]);
    const token = await signToken(
      { sub: 'fleet', role: 'viewer', clusters: '*' },
      { secret: SECRET, ttlSeconds: 600 },
    );

    fleet = startClientFleet({
      gatewayUrls: [g1.url, g2.url],
      token,
      cluster: CLUSTER,
      clients: 12,
      processes: 2,
    });
    await fleet.ready(60_000);
    expect(fleet.size).toBe(12);

    // Churn and a probe: every client ends equal to the truth, and each saw the probe live.
    await sim.step(200);
    const probeNode = Object.keys((await sim.truth()).nodes)[3] as string;
    const sentAt = (performance.timeOrigin + performance.now()).toFixed(3);
    await sim.patchLabel(probeNode, 'knm.bench/probe', sentAt);
    const f = fleet;
    await waitFor(() => converged(f, sim), {
      timeout: 30_000,
      interval: 200,
      what: 'every view to equal the truth',
    });
    const probe = { node: probeNode, sentAt: Number(sentAt) };
    const delivered = await waitFor(
      async () => {
        const d = await f.probeDeliveries([probe]);
        return d.missing === 0 && d;
      },
      { timeout: 10_000, what: 'the probe delivered to every client' },
    );
    // Live clients each saw this very probe arrive: none was folded into a later one.
    expect(delivered).toMatchObject({ superseded: 0, dropped: 0 });
    expect(delivered.latencyMs).toHaveLength(12);
    // A probe nobody sent (later than any value set) is missing at every client.
    expect(await f.probeDeliveries([{ node: probeNode, sentAt: Number(sentAt) + 1 }])).toMatchObject({
      latencyMs: [],
      missing: 12,
    });
    const latencies = delivered.latencyMs;
    expect(latencies.every((ms) => ms >= 0 && ms < 30_000)).toBe(true);

    const truth = await sim.truth();
    const one = await fleet.fullView({ process: 1, client: 0 });
    expect(one.nodes).toEqual(
      Object.fromEntries(Object.entries(truth.nodes).map(([name, n]) => [name, n.resourceVersion])),
    );
    expect(one.podCounts).toEqual(
      Object.fromEntries(Object.entries(truth.podCounts).filter(([, c]) => c > 0)),
    );

    let stats = await fleet.stats();
    expect(stats.map((p) => p.clients)).toEqual([6, 6]);
    expect(stats.reduce((n, p) => n + p.applied, 0)).toBeGreaterThan(12);
    expect(stats.reduce((n, p) => n + p.gaps + p.reloads + p.errors, 0)).toBe(0);

    // One gateway dies: its clients reconnect to the other one and resume from their seq.
    await fleet.resetProbes();
    expect(await fleet.probeDeliveries([probe])).toMatchObject({ latencyMs: [], missing: 12 });
    await g1.proc.stop('SIGKILL', 1_000);
    await sim.step(200);
    await waitFor(() => converged(f, sim), {
      timeout: 30_000,
      interval: 200,
      what: 'views equal after the kill',
    });
    stats = await fleet.stats();
    expect(stats.reduce((n, p) => n + p.live, 0)).toBe(12);
    expect(stats.reduce((n, p) => n + p.reconnects, 0)).toBeGreaterThanOrEqual(6);
    // Each reconnect followed one counted end: the killed gateway's 6 connections closed under them.
    const ended = (reason: string): number => stats.reduce((n, p) => n + (p.disconnects[reason] ?? 0), 0);
    expect(ended('transport close')).toBeGreaterThanOrEqual(6);
    expect(stats.reduce((n, p) => n + Object.values(p.disconnects).reduce((a, b) => a + b, 0), 0)).toBe(
      stats.reduce((n, p) => n + p.reconnects, 0),
    );
    expect(stats.reduce((n, p) => n + p.resumes, 0)).toBeGreaterThanOrEqual(6);
    expect(stats.reduce((n, p) => n + p.gaps + p.reloads, 0)).toBe(0);
    // The clients ask for compressed batches, and every batch they applied came so.
    expect(stats.reduce((n, p) => n + p.compressedBatches, 0)).toBe(stats.reduce((n, p) => n + p.batches, 0));

    const memory = await fleet.memory();
    expect(memory).toHaveLength(2);
    expect(memory.every((m) => m.rssBytes > 0)).toBe(true);
  }, 180_000);

  it('refuses a fleet without gateways or clients', () => {
    expect(() => startClientFleet({ gatewayUrls: [], token: 't', cluster: CLUSTER, clients: 1 })).toThrow(
      /at least one gateway URL/,
    );
    expect(() =>
      startClientFleet({ gatewayUrls: ['http://x'], token: 't', cluster: CLUSTER, clients: 0 }),
    ).toThrow(/clients must be a positive integer/);
  });
});
