import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { OperationEvents, OperationQueues, OperationsWorker } from '../src/index.js';
import { startOpsHarness, type OpsHarness } from './support/ops-harness.js';

let h: OpsHarness;
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  h = await startOpsHarness({ nodes: 8, pods: 20, seed: 3 });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await h?.close();
});

describe('operations through BullMQ', { timeout: 60_000 }, () => {
  it('a queued operation is run by the worker; every listener hears its progress; it is audited once', async () => {
    const queues = new OperationQueues(h.redis.connect(), h.redis.keyspace);
    closers.push(() => queues.close());
    const eventsA = new OperationEvents({
      redisUrl: h.redis.url,
      keyspace: h.redis.keyspace,
      coalesceMs: 20,
    });
    const eventsB = new OperationEvents({
      redisUrl: h.redis.url,
      keyspace: h.redis.keyspace,
      coalesceMs: 20,
    });
    closers.push(
      () => eventsA.close(),
      () => eventsB.close(),
    );
    await eventsA.listen(h.cluster);
    await eventsB.listen(h.cluster);
    const heardA: string[] = [];
    const heardB: string[] = [];
    eventsA.onChange((id) => heardA.push(id));
    eventsB.onChange((id) => heardB.push(id));

    const nodes = h.workers().slice(0, 4);
    const op = await h.create({
      action: 'taint',
      nodes,
      params: { taints: [{ key: 'bull', effect: 'PreferNoSchedule' }] },
    });
    await queues.enqueue(op);
    await queues.enqueue(op); // same job id: one job
    const worker = await OperationsWorker.start({
      redisUrl: h.redis.url,
      keyspace: h.redis.keyspace,
      cluster: h.cluster,
      api: h.api,
      nodeConcurrency: 2,
    });
    closers.push(() => worker.close());

    const finished = await waitFor(
      async () => {
        const current = await h.store.get(op.id);
        return current?.state === 'completed' ? current : undefined;
      },
      { timeout: 30_000, what: 'operation completed' },
    );
    expect(finished.progress).toEqual({ done: 4, total: 4 });
    for (const n of nodes) {
      expect(h.sim.truth().nodes[n]?.taints.filter((t) => t.key === 'bull')).toHaveLength(1);
    }
    await waitFor(() => heardA.includes(op.id) && heardB.includes(op.id), {
      timeout: 10_000,
      what: 'both listeners heard it',
    });
    const audit = await waitFor(async () => {
      const records = await h.audit.query({ limit: 10 }, () => true);
      return records.length > 0 ? records : undefined;
    });
    expect(audit).toHaveLength(1);
    // The audit record is written inside the job, so BullMQ moves the job to
    // `completed` only after it: wait for that move, then check that it is the one job.
    const counts = await waitFor(
      async () => {
        const c = await queues.queue(h.cluster).getJobCounts('completed', 'active', 'wait');
        return c.completed === 1 && c.active === 0 ? c : undefined;
      },
      { timeout: 10_000, what: 'the job moved to completed' },
    );
    expect(counts).toEqual({ completed: 1, active: 0, wait: 0 });
    expect(await h.audit.query({ limit: 10 }, () => true)).toHaveLength(1);
  });
});
