import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, Worker } from 'bullmq';
import type { Cluster } from 'ioredis';
import { Keyspace, operationKeys, toClusterName } from '@knm/contracts';
import {
  redisServerSuiteRuns,
  requireRedisServer,
  startRedisCluster,
  waitFor,
  type LocalRedisCluster,
} from '@knm/testing';

// Cluster names whose hash tags land on different shards of a 3-master cluster.
const names = ['dev', 'prod', 'staging', 'edge', 'lab'].map(toClusterName);

/** Runs one job through a BullMQ queue with `prefix` on the Redis Cluster; resolves with its return value. */
async function roundTrip(
  rc: LocalRedisCluster,
  prefix: string,
  queueName: string,
  data: { n: number },
): Promise<unknown> {
  const connection = (): Cluster => rc.connect({ redisOptions: { maxRetriesPerRequest: null } });
  const queue = new Queue(queueName, { connection: connection(), prefix });
  const worker = new Worker(queueName, async (job) => ({ doubled: (job.data as { n: number }).n * 2 }), {
    connection: connection(),
    prefix,
  });
  // Errors the emitters report go into the failure message (a timeout alone says little).
  const errors: string[] = [];
  queue.on('error', (err) => errors.push(`queue: ${err.message}`));
  worker.on('error', (err) => errors.push(`worker: ${err.message}`));
  worker.on('failed', (_job, err) => errors.push(`job failed: ${err.message}`));
  try {
    await worker.waitUntilReady();
    const job = await queue.add('op', data);
    const id = job.id ?? '';
    return await waitFor(
      async () => {
        const current = await queue.getJob(id);
        if (current && (await current.isFailed())) throw new Error(`job failed: ${current.failedReason}`);
        return current && (await current.isCompleted()) ? (current.returnvalue as unknown) : undefined;
      },
      {
        timeout: 30_000,
        interval: 50,
        what: `job ${id} on ${prefix} to complete (state when added: ${await queue.getJobState(id)})`,
      },
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}; emitter errors: ${[...new Set(errors)].join(' | ') || 'none'}`,
      {
        cause: err,
      },
    );
  } finally {
    await worker.close();
    await queue.close();
  }
}

describe.skipIf(!redisServerSuiteRuns())(
  'BullMQ operation queues on a Redis Cluster (3 masters, real redis-server processes)',
  () => {
    let rc: LocalRedisCluster;
    const keyspace = new Keyspace('knmq');

    beforeAll(async () => {
      rc = await startRedisCluster(3);
    }, 60_000);
    afterAll(async () => rc?.close());

    // A test, not a hook: in CI a missing redis-server counts as a failure in the summary, not as skips.
    it('redis-server is installed (.ci/run installs it)', () => requireRedisServer());

    it('the clusters under test live on different shards', async () => {
      const client = rc.connect();
      const slots = await Promise.all(
        names.map(async (n) => Number(await client.cluster('KEYSLOT', keyspace.cluster(n).meta))),
      );
      const shard = (slot: number) => (slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2);
      expect(new Set(slots.map(shard)).size).toBe(3);
    });

    it('a job goes through the queue, worker and events of every cluster with the hash-tagged prefix, and every queue key sits in its cluster slot', async () => {
      const client = rc.connect();
      for (const [i, name] of names.entries()) {
        const keys = operationKeys(keyspace, name);
        expect(await roundTrip(rc, keys.queuePrefix, keys.queueName, { n: i + 1 })).toEqual({
          doubled: 2 * (i + 1),
        });
        const slot = Number(await client.cluster('KEYSLOT', keyspace.cluster(name).meta));
        const nodeKeys: string[] = [];
        for (const node of client.nodes('master')) {
          nodeKeys.push(...(await node.keys(`${keys.queuePrefix}:*`)));
        }
        expect(nodeKeys.length).toBeGreaterThan(3);
        for (const k of nodeKeys) expect(Number(await client.cluster('KEYSLOT', k)), k).toBe(slot);
      }
    }, 120_000);

    it('without a hash tag in the prefix the same queue fails on the cluster (the test can fail)', async () => {
      await expect(roundTrip(rc, 'knmq-untagged', 'ops', { n: 1 })).rejects.toThrow(/CROSSSLOT|slot/i);
    }, 60_000);
  },
);
