import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blockEvictions, type KubeObject } from '@knm/fake-cluster';
import { waitFor } from '@knm/testing';
import {
  drainSkipReason,
  NodeStepRunner,
  OperationCanceller,
  OperationFinishedError,
  OperationRunner,
  type KubePod,
} from '../src/index.js';
import { startOpsHarness, type OpsHarness } from './support/ops-harness.js';

let h: OpsHarness;

beforeEach(async () => {
  h = await startOpsHarness({ nodes: 8, pods: 80, seed: 11 });
});

afterEach(async () => {
  await h?.close();
});

function podsOn(node: string): KubeObject[] {
  return [...h.sim.cluster.store.kind('Pod').values()].filter((p) => p.spec?.['nodeName'] === node);
}

describe('drain against kube-sim', { timeout: 90_000 }, () => {
  it('cordons, evicts every evictable pod and leaves DaemonSet and mirror pods', async () => {
    const node = h.workers()[0]!;
    const before = podsOn(node);
    const evictable = before.filter((p) => drainSkipReason(p as unknown as KubePod) === undefined);
    expect(evictable.length).toBeGreaterThan(0);
    expect(before.some((p) => drainSkipReason(p as unknown as KubePod) === 'daemonset')).toBe(true);
    const op = await h.create({
      action: 'drain',
      nodes: [node],
      params: { timeoutSeconds: 60 },
      reason: 'maintenance',
    });
    const done = await h.runner.run(op.id);
    expect(done?.state, JSON.stringify(done?.results)).toBe('completed');
    expect(done?.results[0]?.message).toMatch(new RegExp(`evicted ${evictable.length} pod\\(s\\)`));
    const after = podsOn(node);
    expect(after.filter((p) => drainSkipReason(p as unknown as KubePod) === undefined)).toEqual([]);
    expect(after.length).toBeGreaterThan(0); // the DaemonSet pods stay
    expect(h.sim.truth().nodes[node]?.unschedulable).toBe(true);
    for (const p of evictable)
      expect(h.sim.cluster.store.get('Pod', `${p.metadata.namespace}/${p.metadata.name}`)).toBeUndefined();
  });

  it('retries evictions a disruption budget refuses (429) until they pass', async () => {
    const [node, target] = h.workers();
    blockEvictions(h.sim, node!);
    await waitFor(
      () =>
        ['default/guarded-1', 'default/guarded-2'].every(
          (k) => h.sim.cluster.store.get('Pod', k)?.status?.['phase'] === 'Running',
        ),
      { timeout: 20_000, what: 'guarded pods running' },
    );
    const op = await h.create({ action: 'drain', nodes: [node!], params: { timeoutSeconds: 60 } });
    const running = h.runner.run(op.id);
    await waitFor(() => h.sim.server.stats().evictionsRejected > 0, {
      timeout: 30_000,
      what: 'an eviction refused with 429',
    });
    h.sim.cluster.replaceObject('Node', target!, {
      ...(h.sim.cluster.store.get('Node', target!) as KubeObject),
      metadata: {
        ...(h.sim.cluster.store.get('Node', target!) as KubeObject).metadata,
        labels: {
          ...(h.sim.cluster.store.get('Node', target!) as KubeObject).metadata.labels,
          guarded: 'yes',
        },
      },
    });
    const done = await running;
    expect(done?.state, JSON.stringify(done?.results)).toBe('completed');
    expect(h.sim.cluster.store.get('Pod', 'default/guarded-1')).toBeUndefined();
    expect(h.sim.cluster.store.get('Pod', 'default/guarded-2')).toBeUndefined();
  });

  it('reports a per-node timeout and still drains the other nodes (partial)', async () => {
    const [blocked, free] = h.workers();
    blockEvictions(h.sim, blocked!);
    await waitFor(
      () =>
        ['default/guarded-1', 'default/guarded-2'].every(
          (k) => h.sim.cluster.store.get('Pod', k)?.status?.['phase'] === 'Running',
        ),
      { timeout: 20_000, what: 'guarded pods running' },
    );
    const op = await h.create({ action: 'drain', nodes: [blocked!, free!], params: { timeoutSeconds: 3 } });
    const done = await h.runner.run(op.id);
    expect(done?.state).toBe('partial');
    const [r0, r1] = done?.results ?? [];
    expect(r0?.status).toBe('failed');
    expect(r0?.error).toMatch(
      new RegExp(
        `drain of node "${blocked}" timed out after 3s with 1 pod\\(s\\) left: default/guarded-\\d \\(1 refused by a disruption budget\\)`,
      ),
    );
    expect(r1?.status).toBe('succeeded');
    const records = await h.audit.query({ limit: 10 }, () => true);
    expect(records[0]?.failures).toEqual([{ node: blocked!, error: r0?.error }]);
    expect(records[0]?.counts).toEqual({ succeeded: 1, failed: 1, skipped: 0, cancelled: 0 });
  });

  it("a cancel aborts a drain's eviction loop and stops before the next node: each node in a stated state, audited", async () => {
    const [blocked, next] = h.workers();
    blockEvictions(h.sim, blocked!);
    await waitFor(
      () =>
        ['default/guarded-1', 'default/guarded-2'].every(
          (k) => h.sim.cluster.store.get('Pod', k)?.status?.['phase'] === 'Running',
        ),
      { timeout: 20_000, what: 'guarded pods running' },
    );
    const runner = new OperationRunner(
      h.store,
      h.audit,
      new NodeStepRunner(h.api, { drainPollMs: 100, evictionRetryMs: 300 }),
      { nodeConcurrency: 1, cancelPollMs: 50 },
    );
    const op = await h.create({ action: 'drain', nodes: [blocked!, next!], params: { timeoutSeconds: 300 } });
    const running = runner.run(op.id);
    await waitFor(() => h.sim.server.stats().evictionsRejected > 0, {
      timeout: 30_000,
      what: 'an eviction refused with 429',
    });
    const canceller = new OperationCanceller(h.store, h.audit);
    const marked = await canceller.cancel(op.id, 'carol');
    expect(marked).toMatchObject({ state: 'running', cancelledBy: 'carol' });
    expect(marked.cancelRequestedAt).toBeDefined();
    const done = await running;
    expect(done?.state).toBe('cancelled');
    expect(done?.results.map((r) => [r.node, r.status, r.message])).toEqual([
      [
        blocked,
        'cancelled',
        expect.stringMatching(/^drain cancelled: node left cordoned, \d+ pod\(s\) evicted, 1 not evicted$/),
      ],
      [next, 'cancelled', 'not started: the operation was cancelled'],
    ]);
    expect(h.sim.truth().nodes[blocked!]?.unschedulable).toBe(true);
    expect(h.sim.truth().nodes[next!]?.unschedulable).toBe(false);
    const records = await h.audit.query({ limit: 10 }, () => true);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      operationId: op.id,
      state: 'cancelled',
      cancelledBy: 'carol',
      counts: { succeeded: 0, failed: 0, skipped: 0, cancelled: 2 },
    });
    await expect(canceller.cancel(op.id, 'carol')).rejects.toThrow(OperationFinishedError);
  });

  it('a queued operation is cancelled at once (audited, nodes released); a runner that picks it up later touches nothing', async () => {
    const [node] = h.workers();
    const op = await h.create({ action: 'cordon', nodes: [node!] });
    expect(await h.store.lockNodes(op)).toBeUndefined();
    const cancelled = await new OperationCanceller(h.store, h.audit).cancel(op.id, 'carol');
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.results).toMatchObject([{ node, status: 'cancelled' }]);
    expect(
      await h.redis.client.exists(h.redis.keyspace.cluster(h.cluster).queuePrefix + `:oplock:${node}`),
    ).toBe(0);
    const again = await h.runner.run(op.id);
    expect(again?.state).toBe('cancelled');
    expect(h.sim.truth().nodes[node!]?.unschedulable).toBe(false);
    const records = await h.audit.query({ limit: 10 }, () => true);
    expect(records.map((r) => [r.operationId, r.state, r.cancelledBy])).toEqual([
      [op.id, 'cancelled', 'carol'],
    ]);
  });
});
