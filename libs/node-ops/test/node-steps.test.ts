import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ANNOTATION_CORDONED_BY, ANNOTATION_CORDON_REASON } from '@knm/contracts';
import { OperationBusyError } from '../src/index.js';
import { startOpsHarness, type OpsHarness } from './support/ops-harness.js';

let h: OpsHarness;

beforeEach(async () => {
  // 12 attempts per API call, not the stock 5: the transient-500s test fails 40% of all
  // requests at random, and with 5 attempts a call still gave up about 1% of the time
  // (0.4^5), often enough to fail CI once. With 12 that is 0.4^12, about 2 in 100,000.
  h = await startOpsHarness({ nodes: 10, pods: 60, seed: 7 }, { retry: { attempts: 12 } });
});

afterEach(async () => {
  await h?.close();
});

function truthNodes() {
  return h.sim.truth().nodes;
}

describe('node steps against kube-sim', { timeout: 60_000 }, () => {
  it('label then unlabel change exactly the named nodes; progress reaches the total', async () => {
    const [a, b, c] = h.workers();
    const before = truthNodes();
    const op = await h.create({
      action: 'label',
      nodes: [a!, b!],
      params: { labels: { env: 'prod', 'knm.io/tier': 'web' } },
    });
    const progress: number[] = [];
    const done = await h.runner.run(op.id, async (p) => void progress.push(p.done));
    expect(done?.state).toBe('completed');
    expect(done?.progress).toEqual({ done: 2, total: 2 });
    expect(progress.at(-1)).toBe(2);
    const after = truthNodes();
    for (const n of [a!, b!]) expect(after[n]?.labels).toMatchObject({ env: 'prod', 'knm.io/tier': 'web' });
    expect(after[c!]?.labels).toEqual(before[c!]?.labels);

    const un = await h.create({ action: 'unlabel', nodes: [a!], params: { keys: ['env'] } });
    expect((await h.runner.run(un.id))?.state).toBe('completed');
    expect(truthNodes()[a!]?.labels['env']).toBeUndefined();
    expect(truthNodes()[a!]?.labels['knm.io/tier']).toBe('web');
    expect(truthNodes()[b!]?.labels['env']).toBe('prod');
  });

  it('taint is idempotent: running the same operation twice leaves the taint once; untaint removes it', async () => {
    const [a, b] = h.workers();
    const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const };
    const op = await h.create({ action: 'taint', nodes: [a!, b!], params: { taints: [taint] } });
    expect((await h.runner.run(op.id))?.state).toBe('completed');
    const again = await h.create({ action: 'taint', nodes: [a!, b!], params: { taints: [taint] } });
    const second = await h.runner.run(again.id);
    expect(second?.results.map((r) => r.message)).toEqual([
      'unchanged: taints already present',
      'unchanged: taints already present',
    ]);
    for (const n of [a!, b!]) {
      expect(truthNodes()[n]?.taints.filter((t) => t.key === 'dedicated')).toEqual([taint]);
    }
    const un = await h.create({ action: 'untaint', nodes: [a!], params: { taints: [{ key: 'dedicated' }] } });
    expect((await h.runner.run(un.id))?.state).toBe('completed');
    expect(truthNodes()[a!]?.taints.some((t) => t.key === 'dedicated')).toBe(false);
    expect(truthNodes()[b!]?.taints.some((t) => t.key === 'dedicated')).toBe(true);
  });

  it('cordon records reason and user; uncordon removes them', async () => {
    const [a, b] = h.workers();
    const op = await h.create({ action: 'cordon', nodes: [a!], reason: 'kernel upgrade' }, 'bob');
    expect((await h.runner.run(op.id))?.state).toBe('completed');
    const cordoned = truthNodes()[a!];
    expect(cordoned?.unschedulable).toBe(true);
    expect(cordoned?.annotations[ANNOTATION_CORDON_REASON]).toBe('kernel upgrade');
    expect(cordoned?.annotations[ANNOTATION_CORDONED_BY]).toBe('bob');
    expect(truthNodes()[b!]?.unschedulable).toBe(false);
    const un = await h.create({ action: 'uncordon', nodes: [a!] });
    expect((await h.runner.run(un.id))?.state).toBe('completed');
    expect(truthNodes()[a!]?.unschedulable).toBe(false);
    expect(truthNodes()[a!]?.annotations[ANNOTATION_CORDON_REASON]).toBeUndefined();
  });

  it('a node deleted before its turn is skipped; transient 500s are retried', async () => {
    const [a, b] = h.workers();
    const op = await h.create({ action: 'label', nodes: [a!, b!], params: { labels: { x: 'y' } } });
    h.sim.cluster.deleteObject('Node', b!);
    h.sim.server.faults.errorRate = { fraction: 0.4, status: 500, until: undefined };
    const done = await h.runner.run(op.id);
    h.sim.server.faults.clear();
    expect(done?.results.map((r) => [r.node, r.status])).toEqual([
      [a!, 'succeeded'],
      [b!, 'skipped'],
    ]);
    expect(done?.state).toBe('completed');
    expect(truthNodes()[a!]?.labels['x']).toBe('y');
  });

  it('a finished operation is audited exactly once, even when run again', async () => {
    const [a] = h.workers();
    const op = await h.create({ action: 'label', nodes: [a!], params: { labels: { once: 'yes' } } }, 'carol');
    await h.runner.run(op.id);
    await h.runner.run(op.id);
    const records = await h.audit.query({ limit: 100 }, () => true);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      operationId: op.id,
      user: 'carol',
      action: 'label',
      nodes: [a!],
      state: 'completed',
    });
    expect(await h.audit.query({ user: 'dave', limit: 100 }, () => true)).toEqual([]);
    expect(await h.audit.query({ limit: 100 }, () => false)).toEqual([]);
  });

  it('two runners of one operation at once: every node done once, the operation finished and audited once', async () => {
    const nodes = h.workers().slice(0, 6);
    const op = await h.create({
      action: 'taint',
      nodes,
      params: { taints: [{ key: 'twice', effect: 'NoSchedule' }] },
    });
    h.sim.server.faults.latencyMs = 50;
    const settled = await Promise.allSettled([h.runner.run(op.id), h.runner.run(op.id)]);
    h.sim.server.faults.clear();
    for (const s of settled) if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(OperationBusyError);
    const final = (await h.runner.run(op.id))!;
    expect(final.state).toBe('completed');
    expect(final.results.every((r) => r.status === 'succeeded')).toBe(true);
    for (const n of nodes) expect(truthNodes()[n]?.taints.filter((t) => t.key === 'twice')).toHaveLength(1);
    expect((await h.audit.query({ limit: 10 }, () => true)).map((r) => r.operationId)).toEqual([op.id]);
  });

  it('abandon ends an unfinished operation as failed with its error, audited; a finished one is left alone', async () => {
    const [a] = h.workers();
    const op = await h.create({ action: 'label', nodes: [a!], params: { labels: { z: 'z' } } });
    await h.runner.abandon(op.id, 'gave up after 5 attempts: redis down');
    const failed = await h.store.require(op.id);
    expect(failed).toMatchObject({ state: 'failed', error: 'gave up after 5 attempts: redis down' });
    expect(failed.results).toEqual([{ node: a!, status: 'pending' }]);
    expect((await h.runner.run(op.id))?.state).toBe('failed'); // final: not run again
    expect(truthNodes()[a!]?.labels['z']).toBeUndefined();
    expect(await h.audit.query({ limit: 10 }, () => true)).toHaveLength(1);
  });
});
