import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRedis, makeNodeSnapshot, waitFor, type TestRedis } from '@knm/testing';
import { toClusterName, type ClusterKeys, type Envelope } from '@knm/contracts';
import { FencedError, LeaderLease, NodeStoreWriter } from '../src/index.js';
import { collectChannel } from './support/fixtures.js';

const cluster = toClusterName('fenced');

let t: TestRedis;
let keys: ClusterKeys;
let leases: LeaderLease[] = [];
let channel: { received: Envelope[] };

beforeEach(async () => {
  t = await createTestRedis();
  keys = t.keyspace.cluster(cluster);
  channel = await collectChannel(t.connect(), t.keyspace, cluster);
});
afterEach(async () => {
  await Promise.all(leases.map((l) => l.release().catch(() => undefined)));
  leases = [];
  await t.close();
});

/** Every key of the test with its serialized value: equal dumps mean nothing changed. */
async function dumpAll(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await t.keys()) {
    if (key === keys.lease) continue; // renewed by the live leader
    out[key] = (await t.client.dumpBuffer(key))?.toString('hex') ?? 'missing';
  }
  return out;
}

function lease(identity: string): LeaderLease {
  const l = new LeaderLease(t.client, t.keyspace, cluster, identity, { ttlMs: 2_000, retryEveryMs: 20 });
  leases.push(l);
  return l;
}

describe('fencing', () => {
  it('after a new leader acquired, every method of the old writer throws FencedError and changes nothing', async () => {
    const oldLease = lease('old');
    const oldEpoch = await oldLease.acquire();
    const old = new NodeStoreWriter(t.client, t.keyspace, cluster, oldEpoch, 'old');
    await old.register({ server: 'https://old' });
    await old.rebuild({
      nodes: [makeNodeSnapshot('a')],
      podCounts: { a: 1 },
      allocation: { a: { requests: { cpu: 50 }, limits: {} } },
      reason: 'rebuild',
    });
    await old.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot('b') }]);

    // The old leader is "paused": its lease is deleted behind its back and a new one takes over.
    await t.client.del(keys.lease);
    const newLease = lease('new');
    const newEpoch = await newLease.acquire();
    expect(newEpoch).toBe(oldEpoch + 1);
    const received = channel.received.length;
    const before = await dumpAll();

    const attempts: [string, () => Promise<unknown>][] = [
      ['register', () => old.register({ server: 'https://evil' })],
      [
        'rebuild',
        () => old.rebuild({ nodes: [makeNodeSnapshot('x')], podCounts: { x: 9 }, reason: 'rebuild' }),
      ],
      ['applyNodeChanges', () => old.applyNodeChanges([{ type: 'node_delete', name: 'a', uid: 'uid-a' }])],
      ['applyNodeChanges([])', () => old.applyNodeChanges([])],
      ['applyPodDeltas', () => old.applyPodDeltas({ a: 5 })],
      ['applyPodDeltas({})', () => old.applyPodDeltas({})],
      [
        'applyPodDeltas with allocation',
        () => old.applyPodDeltas({}, { a: { requests: { cpu: 100 }, limits: {} } }),
      ],
      [
        'setUsage',
        () => old.setUsage({ available: false, polledAt: new Date().toISOString(), reason: 'old' }),
      ],
      ['setStatus', () => old.setStatus('degraded', 'old leader says so')],
      ['heartbeat', () => old.heartbeat()],
    ];
    for (const [name, attempt] of attempts) {
      const err = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(FencedError);
      expect(err, name).toMatchObject({ epoch: oldEpoch, currentEpoch: newEpoch, cluster: 'fenced' });
    }
    expect(await dumpAll()).toEqual(before);

    // The new leader's first write is the next envelope on the channel: nothing of the old one came before it.
    const current = new NodeStoreWriter(t.client, t.keyspace, cluster, newEpoch, 'new');
    expect(await current.applyPodDeltas({ a: 1 })).toBe(3);
    await waitFor(() => channel.received.length > received, { what: "the new leader's envelope" });
    expect(channel.received.slice(received).map((e) => e.seq)).toEqual([3]);
  });

  it('a rebuild fenced between staging and swap leaves the live state untouched and no staging keys', async () => {
    await t.client.set(keys.epoch, '1');
    const writer = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'w');
    await writer.rebuild({ nodes: [makeNodeSnapshot('a')], podCounts: { a: 2 }, reason: 'rebuild' });
    const before = await dumpAll();
    // The clock is read after staging; an INCR sent then on the same connection runs before the swap.
    const racing = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'w', {
      clock: () => {
        void t.client.incr(keys.epoch);
        return new Date();
      },
    });
    await expect(
      racing.rebuild({
        nodes: [makeNodeSnapshot('x'), makeNodeSnapshot('y')],
        podCounts: { x: 1 },
        reason: 'rebuild',
      }),
    ).rejects.toThrow(FencedError);
    const after = await dumpAll();
    expect(after[keys.epoch]).not.toEqual(before[keys.epoch]);
    delete after[keys.epoch];
    delete before[keys.epoch];
    expect(after).toEqual(before);
    expect((await t.keys()).filter((k) => k.includes(':staging:'))).toEqual([]);
  });

  it('a stale writer stages nothing; one fenced after staging swaps nothing and leaves no staging keys', async () => {
    await t.client.set(keys.epoch, '1');
    const writer = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'w');
    await writer.rebuild({ nodes: [makeNodeSnapshot('a')], podCounts: { a: 2 }, reason: 'rebuild' });
    const staged = await writer.stageRebuild([makeNodeSnapshot('x'), makeNodeSnapshot('y')]);
    await t.client.incr(keys.epoch);
    const before = await dumpAll();
    await expect(writer.stageRebuild([makeNodeSnapshot('z')])).rejects.toThrow(FencedError);
    await expect(
      writer.rebuild({
        nodes: [makeNodeSnapshot('x'), makeNodeSnapshot('y')],
        podCounts: { x: 1 },
        reason: 'rebuild',
        staged,
      }),
    ).rejects.toThrow(FencedError);
    const after = await dumpAll();
    for (const key of Object.keys(before)) if (key.includes(':staging:')) delete before[key];
    expect(after).toEqual(before);
    expect((await t.keys()).filter((k) => k.includes(':staging:'))).toEqual([]);
  });

  it('a writer is fenced when Redis lost the epoch (flushed)', async () => {
    await t.client.set(keys.epoch, '3');
    const writer = new NodeStoreWriter(t.client, t.keyspace, cluster, 3, 'w');
    await writer.applyPodDeltas({ a: 1 });
    await t.client.del(keys.epoch);
    await expect(writer.applyPodDeltas({ a: 1 })).rejects.toMatchObject({
      name: 'FencedError',
      currentEpoch: undefined,
    });
    expect(await t.client.hget(keys.pods, 'a')).toBe('1');
  });
});
