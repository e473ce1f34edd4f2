import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { ANNOTATION_CORDON_REASON, AuditResponseSchema, toClusterName, type Envelope } from '@knm/contracts';
import { createTestRedis, waitFor, type ManagedProcess, type TestRedis } from '@knm/testing';
import { EnvelopeCollector } from './support/envelope-collector.js';
import {
  connectSocket,
  connected,
  request,
  startGateway,
  token,
  type RunningGateway,
} from './support/gateway-harness.js';
import { finished, postOperation, ProgressCollector, spawnOpsWatcher } from './support/operations-harness.js';
import { startSim, type SimHandle } from './support/sim-harness.js';

// kube-sim (in-process) -> the real watcher process (which hosts the cluster's
// operations worker) -> Redis -> two gateways (in-process) -> socket.io clients, and
// the real kubectl to check what the API server holds.
let redis: TestRedis;
let sim: SimHandle;
let gwA: RunningGateway;
let gwB: RunningGateway;
const watchers: ManagedProcess[] = [];
const sockets: Socket[] = [];
let operator: string;

interface KubeNodeJson {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[] };
}

async function kubectlNode(name: string): Promise<KubeNodeJson> {
  return JSON.parse(await sim.kubectl('get', 'node', name, '-o', 'json')) as KubeNodeJson;
}

function workers(): string[] {
  return Object.keys(sim.sim.truth().nodes)
    .filter((n) => n.includes('-worker-'))
    .sort();
}

async function watcherReady(w: ManagedProcess): Promise<void> {
  await w.waitForOutput(/"msg":"watcher ready"/, 60_000);
  await w.waitForOutput(/"msg":"operations worker ready"/, 60_000);
}

async function socketOn(url: string, auth: string, subscribe: boolean): Promise<Socket> {
  const socket = connectSocket(url, { token: auth });
  sockets.push(socket);
  await connected(socket);
  if (subscribe) {
    const ack = await request<{ ok: boolean }>(socket, 'subscribe', { cluster: 'dev' });
    expect(ack.ok).toBe(true);
  }
  return socket;
}

function nodeUpdates(c: EnvelopeCollector, aspect: string): string[] {
  return c.envelopes
    .filter((e): e is Extract<Envelope, { type: 'node_update' }> => e.type === 'node_update')
    .filter((e) => e.changes?.includes(aspect as never))
    .map((e) => e.node ?? '');
}

beforeEach(async () => {
  redis = await createTestRedis();
  sim = await startSim({
    nodes: 10,
    pods: 80,
    seed: 5,
    clusterName: 'dev',
    kubelet: { startupMs: 100, stopMs: 200 },
  });
  const watcher = spawnOpsWatcher(sim, redis, 'dev');
  watchers.push(watcher);
  await watcherReady(watcher);
  gwA = await startGateway(redis, {}, 'gw-a');
  gwB = await startGateway(redis, {}, 'gw-b');
  operator = await token({ sub: 'olga', role: 'operator', clusters: [toClusterName('dev')] });
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  await gwA?.close();
  await gwB?.close();
  for (const w of watchers.splice(0)) {
    if (w.running) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
  }
  await sim?.close();
  await redis?.close();
});

describe('node operations end to end', { timeout: 180_000 }, () => {
  it('label, taint, cordon (and back) change exactly the chosen nodes; progress reaches 100% once per socket; clients see node_updates', async () => {
    const [a, b, c] = workers();
    const chosen = [a!, b!];
    const viewerSocket = await socketOn(gwB.url, await token({ sub: 'vera', role: 'viewer' }), true);
    const ownerSocket = await socketOn(gwA.url, operator, false); // not subscribed: gets it as its user
    const strangerSocket = await socketOn(gwA.url, await token({ sub: 'sam', role: 'viewer' }), false);
    const viewerEnvelopes = new EnvelopeCollector(viewerSocket);
    const viewerProgress = new ProgressCollector(viewerSocket);
    const ownerProgress = new ProgressCollector(ownerSocket);
    const strangerProgress = new ProgressCollector(strangerSocket);
    const before = sim.sim.truth().nodes;

    const label = await postOperation(gwA.url, operator, 'dev', {
      action: 'label',
      nodes: chosen,
      params: { labels: { 'knm.io/pool': 'blue' } },
    });
    const labelled = await finished(gwA.url, operator, label.id);
    expect(labelled.state).toBe('completed');
    expect(labelled.progress).toEqual({ done: 2, total: 2 });

    const taint = await postOperation(gwB.url, operator, 'dev', {
      action: 'taint',
      nodes: chosen,
      params: { taints: [{ key: 'dedicated', value: 'blue', effect: 'NoSchedule' }] },
    });
    expect((await finished(gwA.url, operator, taint.id)).state).toBe('completed');
    const cordon = await postOperation(gwA.url, operator, 'dev', {
      action: 'cordon',
      nodes: chosen,
      reason: 'kernel 6.9',
    });
    expect((await finished(gwA.url, operator, cordon.id)).state).toBe('completed');

    for (const n of chosen) {
      const node = await kubectlNode(n);
      expect(node.metadata.labels?.['knm.io/pool']).toBe('blue');
      expect(node.spec?.taints?.filter((t) => t.key === 'dedicated')).toEqual([
        { key: 'dedicated', value: 'blue', effect: 'NoSchedule' },
      ]);
      expect(node.spec?.unschedulable).toBe(true);
      expect(node.metadata.annotations?.[ANNOTATION_CORDON_REASON]).toBe('kernel 6.9');
      const truth = sim.sim.truth().nodes[n];
      expect(truth?.labels['knm.io/pool']).toBe('blue');
      expect(truth?.unschedulable).toBe(true);
    }
    const untouched = await kubectlNode(c!);
    expect(untouched.metadata.labels).toEqual(before[c!]?.labels);
    expect(untouched.spec?.unschedulable ?? false).toBe(false);
    expect(sim.sim.truth().nodes[c!]?.taints).toEqual(before[c!]?.taints);

    // The result comes back through the watcher: node_update envelopes for exactly the chosen nodes.
    await waitFor(() => nodeUpdates(viewerEnvelopes, 'schedulable').length >= 2, {
      timeout: 20_000,
      what: 'cordon node_updates',
    });
    expect([...new Set(nodeUpdates(viewerEnvelopes, 'labels'))].sort()).toEqual(chosen);
    expect([...new Set(nodeUpdates(viewerEnvelopes, 'taints'))].sort()).toEqual(chosen);
    expect([...new Set(nodeUpdates(viewerEnvelopes, 'schedulable'))].sort()).toEqual(chosen);

    // Progress: to the cluster's watcher (other gateway) and to the owner's socket, each final state once.
    for (const collector of [viewerProgress, ownerProgress]) {
      for (const op of [label, taint, cordon]) {
        await waitFor(() => collector.of(op.id).some((e) => e.state === 'completed'), {
          timeout: 20_000,
          what: `progress of ${op.action}`,
        });
        const events = collector.of(op.id);
        expect(events.filter((e) => e.state === 'completed')).toHaveLength(1);
        expect(events.at(-1)?.progress).toEqual({ done: 2, total: 2 });
        const dones = events.map((e) => e.progress.done);
        expect(dones).toEqual([...dones].sort((x, y) => x - y));
      }
    }
    expect(strangerProgress.events).toEqual([]);

    // And back: uncordon, untaint, unlabel restore exactly what was there (kubectl and /_sim/truth over HTTP).
    for (const request of [
      { action: 'uncordon' as const, nodes: chosen },
      { action: 'untaint' as const, nodes: chosen, params: { taints: [{ key: 'dedicated' }] } },
      { action: 'unlabel' as const, nodes: chosen, params: { keys: ['knm.io/pool'] } },
    ]) {
      const op = await postOperation(gwA.url, operator, 'dev', request);
      const done = await finished(gwA.url, operator, op.id);
      expect(done.state, JSON.stringify(done.results)).toBe('completed');
      expect(done.progress).toEqual({ done: 2, total: 2 });
    }
    const truthRes = await fetch(`${sim.sim.url}/_sim/truth`);
    const truth = (await truthRes.json()) as {
      nodes: Record<string, { labels: unknown; taints: unknown; unschedulable: boolean }>;
    };
    for (const n of [a!, b!, c!]) {
      const node = await kubectlNode(n);
      expect(node.metadata.labels).toEqual(before[n]?.labels);
      expect(node.spec?.unschedulable ?? false).toBe(false);
      expect(node.metadata.annotations?.[ANNOTATION_CORDON_REASON]).toBeUndefined();
      expect(truth.nodes[n]?.labels).toEqual(before[n]?.labels);
      expect(truth.nodes[n]?.taints).toEqual(before[n]?.taints);
      expect(truth.nodes[n]?.unschedulable).toBe(false);
    }
  });

  it('drain evicts the evictable pods through the watcher-hosted worker and leaves DaemonSet pods', async () => {
    const node = workers()[3]!;
    const op = await postOperation(gwA.url, operator, 'dev', {
      action: 'drain',
      nodes: [node],
      params: { timeoutSeconds: 60 },
    });
    const done = await finished(gwA.url, operator, op.id);
    expect(done.state, JSON.stringify(done.results)).toBe('completed');
    const pods = [...sim.sim.cluster.store.kind('Pod').values()].filter((p) => p.spec?.['nodeName'] === node);
    expect(
      pods.every(
        (p) =>
          p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet') ||
          p.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined ||
          ['Succeeded', 'Failed'].includes(String(p.status?.['phase'])),
      ),
    ).toBe(true);
    expect((await kubectlNode(node)).spec?.unschedulable).toBe(true);
  });

  it('kill -9 of the worker mid-batch: a new one finishes the batch without double effects; one audit record', async () => {
    const nodes = workers(); // 6 workers
    expect(nodes.length).toBeGreaterThanOrEqual(5);
    sim.sim.server.faults.latencyMs = 300; // ~0.6 s per node (GET + PATCH), one node at a time
    const first = watchers[0]!;
    // Restart with one node at a time so the kill lands mid-batch.
    first.child.kill('SIGTERM');
    await first.exited;
    const slow = spawnOpsWatcher(sim, redis, 'dev', { KNM_OPS_NODE_CONCURRENCY: '1' });
    watchers.push(slow);
    await watcherReady(slow);
    const op = await postOperation(gwA.url, operator, 'dev', {
      action: 'taint',
      nodes,
      params: { taints: [{ key: 'once', value: 'only', effect: 'NoExecute' }] },
    });
    await waitFor(
      async () => {
        const res = await fetch(`${gwA.url}/api/v1/operations/${op.id}`, {
          headers: { authorization: `Bearer ${operator}` },
        });
        const body = (await res.json()) as { progress: { done: number } };
        return body.progress.done >= 2;
      },
      { timeout: 60_000, interval: 50, what: '2 nodes done' },
    );
    slow.child.kill('SIGKILL');
    await slow.exited;
    const midway = await fetch(`${gwA.url}/api/v1/operations/${op.id}`, {
      headers: { authorization: `Bearer ${operator}` },
    });
    const mid = (await midway.json()) as { state: string; progress: { done: number } };
    expect(mid.state).toBe('running');
    expect(mid.progress.done).toBeLessThan(nodes.length);

    const again = spawnOpsWatcher(sim, redis, 'dev');
    watchers.push(again);
    const done = await finished(gwA.url, operator, op.id, 120_000);
    sim.sim.server.faults.latencyMs = 0;
    expect(done.state, JSON.stringify(done.results)).toBe('completed');
    expect(done.results.every((r) => r.status === 'succeeded')).toBe(true);
    for (const n of nodes) {
      const taints = (await kubectlNode(n)).spec?.taints ?? [];
      expect(taints.filter((t) => t.key === 'once')).toHaveLength(1);
    }
    const audit = await waitFor(
      async () => {
        const res = await fetch(`${gwA.url}/api/v1/audit?action=taint`, {
          headers: { authorization: `Bearer ${operator}` },
        });
        const body = AuditResponseSchema.parse(await res.json());
        return body.items.length > 0 ? body.items : undefined;
      },
      { timeout: 10_000, what: 'the audit record' },
    );
    expect(audit.filter((r) => r.operationId === op.id)).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      user: 'olga',
      cluster: 'dev',
      nodes,
      state: 'completed',
      counts: { succeeded: nodes.length, failed: 0, skipped: 0 },
    });
  });
});
