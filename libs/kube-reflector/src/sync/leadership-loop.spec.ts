import { afterEach, describe, expect, it } from 'vitest';
import type { NodeSnapshot } from '@knm/contracts';
import { waitFor } from '@knm/testing';
import { FakeSource } from '../../test/fake-source.js';
import type { PodRecord } from '../pod-record.js';
import type { ClusterStateWriter } from './cluster-state-writer.js';
import { ClusterSync } from './cluster-sync.js';
import { LeadershipLoop, type Lease } from './leadership-loop.js';

class Fenced extends Error {
  override name = 'Fenced';
}

/** A lease another replica can take from us, as `LeaderLease` behaves. */
class FakeLease implements Lease {
  holder: string | undefined;
  epoch = 0;
  /** Calls of `acquire` and reads of `isLeader`, so tests can see what the loop did. */
  acquires = 0;
  leaderChecks = 0;
  private readonly lost: ((reason: string) => void)[] = [];
  private waiting: (() => void)[] = [];

  constructor(readonly me: string) {}

  get isLeader(): boolean {
    this.leaderChecks += 1;
    return this.holder === this.me;
  }

  async acquire(signal?: AbortSignal): Promise<number> {
    this.acquires += 1;
    while (this.holder !== undefined && this.holder !== this.me) {
      if (signal?.aborted) throw signal.reason;
      await new Promise<void>((r) => {
        this.waiting.push(r);
        signal?.addEventListener('abort', () => r(), { once: true });
      });
    }
    if (!this.isLeader) {
      this.holder = this.me;
      this.epoch += 1;
    }
    return this.epoch;
  }

  onLost(listener: (reason: string) => void): void {
    this.lost.push(listener);
  }

  /** Another replica takes over (the epoch moves on); we notice it like a failed renew would. */
  takenOver(): void {
    this.holder = 'other';
    this.epoch += 1;
    for (const l of this.lost) l('taken over');
  }

  /** The other replica goes away. */
  freed(): void {
    this.holder = undefined;
    for (const w of this.waiting.splice(0)) w();
  }

  async release(): Promise<void> {
    if (this.isLeader) this.holder = undefined;
  }
}

/**
 * Writes succeed only while the writer's epoch is the lease's current one. The store
 * behind it has state of this life once the first term rebuilt it (`syncedAt`).
 */
function writerFor(lease: FakeLease, epoch: number, log: string[]): ClusterStateWriter {
  const check = (what: string): void => {
    if (lease.epoch !== epoch) throw new Fenced(`epoch ${epoch} fenced`);
    log.push(`${epoch}:${what}`);
  };
  const syncedAt = log.some((l) => l.includes(':rebuild')) ? '2026-12-01T00:00:00.000Z' : undefined;
  return {
    readState: async () => (
      check('read'),
      { seq: 1, nodes: [], podCounts: {}, allocation: {}, ...(syncedAt ? { syncedAt } : {}) }
    ),
    markSynced: async () => check('synced'),
    stageRebuild: async (nodes) => (check('stage'), { size: nodes.length }),
    rebuild: async (i) => (check(`rebuild ${i.reason}`), 0),
    applyNodeChanges: async () => (check('nodes'), 0),
    applyPodDeltas: async () => (check('pods'), 0),
    setStatus: async (s) => check(`status ${s}`),
    heartbeat: async () => check('heartbeat'),
  };
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
});

/**
 * A running sync and leadership loop on a {@link FakeLease}: `log` records every
 * write as `<epoch>:<what>`, `roles` every leading / standby transition.
 */
function start() {
  const nodes = new FakeSource<NodeSnapshot>('nodes', (n) => n.name);
  const pods = new FakeSource<PodRecord>('pods', (p) => p.uid);
  const sync = new ClusterSync({ nodes, pods, heartbeatMs: 10_000, isFenced: (e) => e instanceof Fenced });
  const lease = new FakeLease('me');
  const log: string[] = [];
  const roles: string[] = [];
  const loop = new LeadershipLoop({
    lease,
    sync,
    createWriter: (epoch) => writerFor(lease, epoch, log),
    observer: {
      onLeading: (e) => roles.push(`leading ${e}`),
      onStandby: (r) => roles.push(`standby (${r})`),
    },
    pollMs: 5,
  });
  stops.push(async () => {
    await loop.stop();
    await sync.stop();
  });
  sync.start();
  loop.start();
  return { nodes, sync, lease, log, roles };
}

describe('LeadershipLoop', () => {
  it('leads, stands by when the lease is taken over, leads again with a new epoch when it is free', async () => {
    const { sync, lease, log, roles } = start();
    await waitFor(() => log.includes('1:rebuild rebuild'), { what: 'the first term (Redis empty)' });
    lease.takenOver();
    await waitFor(() => roles.includes('standby (lease lost: taken over)'));
    expect(sync.leading).toBe(false);
    lease.freed();
    await waitFor(() => sync.serving && log.includes('3:read'), { what: 'the second term' });
    expect(log.filter((l) => l.includes(':rebuild'))).toEqual(['1:rebuild rebuild']);
    expect(roles).toEqual([
      'standby (starting)',
      'leading 1',
      'standby (lease lost: taken over)',
      'leading 3',
    ]);
  });

  it('a fenced write ends the term at once; it waits for the lease to notice before acquiring again', async () => {
    const { nodes, sync, lease, log, roles } = start();
    await waitFor(() => sync.serving && nodes.openWatches === 1);
    // The epoch moves on without the lease noticing yet (a paused leader).
    lease.epoch += 1;
    nodes.upsert({ name: 'n1' } as NodeSnapshot);
    await waitFor(() => roles.some((r) => r.startsWith('standby (fenced')), {
      what: 'standby after fencing',
    });
    expect(sync.leading).toBe(false);
    // Still "leader" by its own lease: the loop must not re-lead with a stale epoch. It
    // polls the lease (three more checks) instead of acquiring.
    const { acquires, leaderChecks } = lease;
    await waitFor(() => lease.leaderChecks >= leaderChecks + 3, { what: 'the loop polling the lease' });
    expect(lease.acquires).toBe(acquires);
    expect(roles.filter((r) => r.startsWith('leading'))).toEqual(['leading 1']);
    lease.takenOver();
    lease.freed();
    await waitFor(() => roles.filter((r) => r.startsWith('leading')).length === 2);
    await waitFor(() => sync.serving && log.some((l) => l.endsWith(':read') && !l.startsWith('1:')));
  });
});
