import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '@knm/testing';
import { HistoryReader } from '@knm/node-store';
import { OperationQueues, OperationsWorker } from '../src/index.js';
import { startOpsHarness, type OpsHarness } from './support/ops-harness.js';

let h: OpsHarness;
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  h = await startOpsHarness({ nodes: 4, pods: 8, seed: 5 });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await h?.close();
});

describe("operations in the nodes' history", { timeout: 60_000 }, () => {
  it('each node an operation touched gets one operation entry, however often its final result is written', async () => {
    const nodes = h.workers().slice(0, 2);
    const op = await h.create({ action: 'cordon', nodes, reason: 'kernel upgrade' });
    const worker = await OperationsWorker.start({
      redisUrl: h.redis.url,
      keyspace: h.redis.keyspace,
      cluster: h.cluster,
      api: h.api,
    });
    closers.push(() => worker.close());
    const queues = new OperationQueues(h.redis.connect(), h.redis.keyspace);
    closers.push(() => queues.close());
    await queues.enqueue(op);
    const finished = await waitFor(
      async () => {
        const current = await h.store.get(op.id);
        return current?.state === 'completed' ? current : undefined;
      },
      { timeout: 30_000, what: 'operation completed' },
    );

    const reader = new HistoryReader(h.redis.client, h.redis.keyspace);
    const entriesOf = async (node: string) =>
      (await reader.nodeHistory(h.cluster, node, { limit: 100 })).items;
    for (const node of nodes) {
      expect(await entriesOf(node)).toEqual([
        expect.objectContaining({
          kind: 'operation',
          operation: expect.objectContaining({
            id: op.id,
            action: 'cordon',
            status: 'succeeded',
            by: op.createdBy,
          }),
        }),
      ]);
    }
    // A second runner (a stalled job picked up again) writing the same final result adds nothing.
    const result = finished.results.find((r) => r.node === nodes[0]);
    expect(result).toBeDefined();
    if (result) await h.store.setResult(op.id, result, { action: 'cordon', by: op.createdBy });
    expect(await entriesOf(nodes[0] as string)).toHaveLength(1);
    // A node the operation did not touch has no entry.
    expect(await entriesOf(h.workers()[3] as string)).toEqual([]);
  });
});
