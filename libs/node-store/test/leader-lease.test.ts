import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRedis, waitFor, type TestRedis } from '@knm/testing';
import { toClusterName, type ClusterKeys } from '@knm/contracts';
import {
  FencedError,
  LeaderLease,
  LeaseAbortedError,
  NodeStoreWriter,
  type LeaderLeaseOptions,
} from '../src/index.js';
import type { Redis } from 'ioredis';

const cluster = toClusterName('lease');

let t: TestRedis;
let keys: ClusterKeys;
let leases: LeaderLease[] = [];

beforeEach(async () => {
  t = await createTestRedis();
  keys = t.keyspace.cluster(cluster);
});
afterEach(async () => {
  await Promise.all(leases.map((l) => l.release().catch(() => undefined)));
  leases = [];
  await t.close();
});

function lease(identity: string, options: LeaderLeaseOptions = {}, redis: Redis = t.client): LeaderLease {
  const l = new LeaderLease(redis, t.keyspace, cluster, identity, { retryEveryMs: 20, ...options });
  leases.push(l);
  return l;
}

describe('LeaderLease', () => {
  it('acquire sets the lease with a TTL, increments the epoch and records leader and epoch in meta', async () => {
    await t.client.set(keys.epoch, '41');
    const a = lease('a', { ttlMs: 3_000 });
    expect(a.epoch).toBeUndefined();
    expect(a.isLeader).toBe(false);
    expect(await a.acquire()).toBe(42);
    expect(a.epoch).toBe(42);
    expect(a.isLeader).toBe(true);
    expect(await t.client.get(keys.lease)).toBe('a');
    const ttl = await t.client.pttl(keys.lease);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3_000);
    expect(await t.client.hmget(keys.meta, 'epoch', 'leader')).toEqual(['42', 'a']);
    expect(await a.acquire()).toBe(42); // already leading: same epoch
  });

  it('the leader keeps the lease by renewing it past its TTL', async () => {
    const a = lease('a', { ttlMs: 500 });
    const b = lease('b', { ttlMs: 500 });
    await a.acquire();
    let bLed = false;
    void b.acquire().then(
      () => (bLed = true),
      () => undefined,
    );
    // Each renewal sets the key's TTL back up: wait for 10 of them (every ~167 ms: more than 3 TTLs).
    let renewals = 0;
    let lastTtl = await t.client.pttl(keys.lease);
    await waitFor(
      async () => {
        const ttl = await t.client.pttl(keys.lease);
        if (ttl > lastTtl) renewals += 1;
        lastTtl = ttl;
        return renewals >= 10;
      },
      { timeout: 10_000, interval: 10, what: '10 renewals' },
    );
    expect(a.isLeader).toBe(true);
    expect(bLed).toBe(false);
    expect(await t.client.get(keys.lease)).toBe('a');
  });

  it('a standby takes over after the holder stops renewing (Redis unreachable), and the holder fires onLost', async () => {
    const holderConnection = t.connect();
    const a = lease('a', { ttlMs: 400, renewEveryMs: 100 }, holderConnection);
    const lost: string[] = [];
    a.onLost((reason) => lost.push(reason));
    expect(await a.acquire()).toBe(1);
    const b = lease('b', { ttlMs: 400 });
    const bEpoch = b.acquire().then((epoch) => ({ epoch, aStillLeads: a.isLeader }));
    holderConnection.disconnect(); // a's renewals now fail
    // a gives up when its lease may expire, so it no longer thinks it leads when b takes over
    expect(await bEpoch).toEqual({ epoch: 2, aStillLeads: false });
    await waitFor(() => lost.length === 1, { what: 'onLost of the silent holder' });
    expect(lost[0]).toMatch(/not renewed/);
    expect(a.isLeader).toBe(false);
    expect(b.isLeader).toBe(true);
  });

  it('a leader paused for longer than the TTL gives the lease up, frees it, and can re-acquire from onLost', async () => {
    let fakeNow = 1_000_000;
    const a = lease('a', { ttlMs: 10_000, renewEveryMs: 50, now: () => fakeNow });
    const events: string[] = [];
    let reacquired: Promise<number> | undefined;
    a.onLost((reason) => {
      events.push(reason);
      reacquired = a.acquire();
    });
    expect(await a.acquire()).toBe(1);
    fakeNow += 10_000; // as if the process had been stopped for a whole TTL
    await waitFor(() => events.length === 1, { what: 'onLost after the pause' });
    expect(events[0]).toMatch(/^lease not renewed for 10000 ms/);
    expect(await reacquired).toBe(2);
    expect(a.isLeader).toBe(true);
    // The best-effort release went out before the re-acquire, so it did not delete the new lease.
    expect(await t.client.get(keys.lease)).toBe('a');
    expect(events).toHaveLength(1);
  });

  it('onLost fires once when another replica took the lease over', async () => {
    const a = lease('a', { ttlMs: 1_000, renewEveryMs: 50 });
    const lost: string[] = [];
    a.onLost((reason) => lost.push(reason));
    await a.acquire();
    await t.client.set(keys.lease, 'intruder', 'PX', 5_000);
    await waitFor(() => lost.length > 0, { what: 'onLost' });
    expect(lost).toEqual(['lease taken over by intruder']);
    expect(a.isLeader).toBe(false);
    expect(lost).toHaveLength(1);
    expect(await t.client.get(keys.lease)).toBe('intruder');
  });

  it('release hands over immediately (well before the TTL) and deletes only our own lease', async () => {
    const a = lease('a', { ttlMs: 30_000 });
    const b = lease('b', { ttlMs: 30_000 });
    await a.acquire();
    const bEpoch = b.acquire();
    const released = Date.now();
    await a.release();
    expect(await bEpoch).toBe(2);
    expect(Date.now() - released).toBeLessThan(10_000);
    expect(a.isLeader).toBe(false);
    expect(await t.client.get(keys.lease)).toBe('b');
    await a.release(); // idempotent, and never deletes b's lease
    expect(await t.client.get(keys.lease)).toBe('b');
    await expect(a.acquire()).rejects.toBeInstanceOf(LeaseAbortedError);
  });

  it('two or more contenders never lead at the same time; each hand-over bumps the epoch', async () => {
    const contenders = ['a', 'b', 'c', 'd', 'e'].map((id) => lease(id, { ttlMs: 5_000 }));
    const won: { id: string; epoch: number }[] = [];
    for (const c of contenders)
      void c.acquire().then(
        (epoch) => won.push({ id: c.identity, epoch }),
        () => undefined,
      );
    for (let round = 1; round <= contenders.length; round += 1) {
      await waitFor(() => won.length === round, { what: `leader #${round}` });
      const leaders = contenders.filter((c) => c.isLeader);
      expect(leaders.map((c) => c.identity)).toEqual([won[round - 1]?.id]);
      expect(await t.client.get(keys.lease)).toBe(won[round - 1]?.id);
      // Every other contender has polled since (it saw this leader's epoch) and did not acquire.
      const others = contenders.filter((c) => !c.isLeader && won.every((w) => w.id !== c.identity));
      await waitFor(() => others.every((c) => c.highestEpochSeen === round), {
        what: `polls in round ${round}`,
      });
      expect(won.length).toBe(round);
      await leaders[0]?.release();
    }
    expect(won.map((w) => w.epoch)).toEqual([1, 2, 3, 4, 5]);
  });

  it('acquire rejects when the signal aborts or the lease is released while waiting', async () => {
    await t.client.set(keys.lease, 'someone-else', 'PX', 30_000);
    const a = lease('a');
    const controller = new AbortController();
    const aborted = a.acquire(controller.signal);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'LeaseAbortedError', reason: 'aborted' });
    const b = lease('b');
    const released = b.acquire();
    await b.release();
    await expect(released).rejects.toMatchObject({ name: 'LeaseAbortedError', reason: 'released' });
    expect(await t.client.get(keys.lease)).toBe('someone-else');
    expect(await t.client.get(keys.epoch)).toBeNull();
  });

  it('after a loss the same lease can acquire again, with a new epoch', async () => {
    const a = lease('a', { ttlMs: 1_000, renewEveryMs: 50 });
    const lost: string[] = [];
    a.onLost((r) => lost.push(r));
    expect(await a.acquire()).toBe(1);
    await t.client.set(keys.lease, 'other', 'PX', 200);
    await waitFor(() => lost.length === 1);
    expect(await a.acquire()).toBe(2);
    expect(a.isLeader).toBe(true);
  });

  it('Redis lost its data: leader and standby continue above the epoch they saw, seq jumps past the old life, an old writer stays fenced', async () => {
    const a = lease('a', { ttlMs: 1_000, renewEveryMs: 50 });
    const b = lease('b', { ttlMs: 1_000 });
    const lost: string[] = [];
    a.onLost((r) => lost.push(r));
    expect(await a.acquire()).toBe(1);
    const standby = b.acquire();
    await waitFor(() => b.highestEpochSeen === 1, { what: 'b to poll and see epoch 1' });
    const oldWriter = new NodeStoreWriter(t.client, t.keyspace, cluster, 1, 'a');
    await oldWriter.applyPodDeltas({ n1: 1 });
    const oldSeq = Number(await t.client.hget(keys.meta, 'seq'));

    await t.client.del(keys.lease, keys.epoch, keys.meta, keys.pods, keys.events); // data loss
    expect(await standby).toBe(2); // not 1 again
    const seq = Number(await t.client.hget(keys.meta, 'seq'));
    const [serverSeconds] = await t.client.time();
    expect(seq).toBeGreaterThan(oldSeq);
    expect(Math.abs(seq - Number(serverSeconds) * 1000)).toBeLessThan(60_000); // the server's clock, ms
    await expect(oldWriter.applyPodDeltas({ n1: 1 })).rejects.toBeInstanceOf(FencedError);
    await waitFor(() => lost.length === 1, { what: 'a to lose the lease' });

    // The old leader stands by (it polls and sees epoch 2); a second loss: it continues above 2.
    const again = a.acquire();
    await waitFor(() => a.highestEpochSeen === 2, { what: 'a to poll and see epoch 2' });
    await t.client.del(keys.lease, keys.epoch, keys.meta);
    expect(await again).toBe(3);
    const writer = new NodeStoreWriter(t.client, t.keyspace, cluster, 3, 'a');
    expect(await writer.applyPodDeltas({ n1: 1 })).toBeGreaterThan(seq);
  });

  it('Redis replaced by an older copy: the data-loss path deletes meta.syncedAt (the surviving state is of another life), a normal takeover keeps it', async () => {
    const a = lease('a', { ttlMs: 1_000, renewEveryMs: 50 });
    expect(await a.acquire()).toBe(1);
    await t.client.hset(keys.meta, 'syncedAt', '2026-11-22T12:00:00.000Z');
    await a.release();
    const b = lease('b', { ttlMs: 1_000, renewEveryMs: 50 });
    const lost: string[] = [];
    b.onLost((r) => lost.push(r));
    expect(await b.acquire()).toBe(2);
    expect(await t.client.hget(keys.meta, 'syncedAt')).toBe('2026-11-22T12:00:00.000Z');
    // An older copy: no lease, epoch 1 and a syncedAt of its own, below what b saw.
    await t.client.del(keys.lease);
    await t.client.set(keys.epoch, 1);
    await waitFor(() => lost.length === 1, { what: 'b to lose the lease' });
    expect(await b.acquire()).toBe(3);
    expect(await t.client.hget(keys.meta, 'syncedAt')).toBeNull();
  });

  it('a fresh Redis with no epoch anywhere starts at epoch 1 and leaves seq alone', async () => {
    const a = lease('a');
    expect(await a.acquire()).toBe(1);
    expect(await t.client.hget(keys.meta, 'seq')).toBeNull();
  });

  it('reports Redis errors of standby polls to onError and keeps polling', async () => {
    const connection = t.connect();
    const errors: Error[] = [];
    const a = lease('a', { onError: (e) => errors.push(e) }, connection);
    await t.client.set(keys.lease, 'other', 'PX', 30_000);
    const pending = a.acquire();
    connection.disconnect();
    await waitFor(() => errors.length >= 2, { what: 'errors reported' });
    await a.release();
    await expect(pending).rejects.toBeInstanceOf(LeaseAbortedError);
  });

  it('rejects inconsistent timings', () => {
    expect(
      () => new LeaderLease(t.client, t.keyspace, cluster, 'a', { ttlMs: 100, renewEveryMs: 100 }),
    ).toThrow(RangeError);
    expect(() => new LeaderLease(t.client, t.keyspace, cluster, '')).toThrow(RangeError);
  });
});
