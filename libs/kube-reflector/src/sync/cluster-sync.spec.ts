import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { projectNode, type NodeAllocation, type NodeSnapshot, type ResyncReason } from '@knm/contracts';
import { waitFor } from '@knm/testing';
import { FakeSource } from '../../test/fake-source.js';
import { ApiUnreachableError } from '../errors/api-unreachable-error.js';
import type { NodeCacheChange } from '../node-cache.js';
import type { PodRecord } from '../pod-record.js';
import type {
  ClusterStateWriter,
  StagedNodes,
  StoredClusterState,
  WatcherStatus,
} from './cluster-state-writer.js';
import { ClusterSync, type ClusterSyncOptions } from './cluster-sync.js';

class Fenced extends Error {
  override name = 'Fenced';
}

/** The tests' milliseconds clock: every reading is later than the one before, so two lists never share a time. */
let lastTick = 0;
const tick = (): number => (lastTick = Math.max(lastTick + 1, Date.now()));

/** What Redis holds: shared by the writers of successive terms, as Redis is. */
class MemoryStore {
  nodes = new Map<string, NodeSnapshot>();
  pods: Record<string, number> = {};
  allocation: Record<string, NodeAllocation> = {};
  status: string | undefined;
  syncedAt: string | undefined;
  seq = 0;
}

/** A writer on a {@link MemoryStore} that records every call (`fenced` is per writer, as per epoch). */
class MemoryWriter implements ClusterStateWriter {
  readonly calls: string[] = [];
  fenced = false;
  failNext = 0;

  constructor(readonly store = new MemoryStore()) {}

  get nodes(): Map<string, NodeSnapshot> {
    return this.store.nodes;
  }

  get pods(): Record<string, number> {
    return this.store.pods;
  }

  get status(): string | undefined {
    return this.store.status;
  }

  private check(call: string): void {
    if (this.fenced) throw new Fenced('fenced');
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('redis down');
    }
    this.calls.push(call);
  }

  async readState(): Promise<StoredClusterState> {
    this.check('read');
    const state: StoredClusterState = {
      seq: this.store.seq,
      nodes: [...this.store.nodes.values()],
      podCounts: { ...this.store.pods },
      allocation: { ...this.store.allocation },
    };
    if (this.store.syncedAt !== undefined) state.syncedAt = this.store.syncedAt;
    return state;
  }

  /** Nodes staged ahead, by name, per staging handed out (a rebuild checks what it swaps in against them). */
  readonly staged = new Map<StagedNodes, Map<string, NodeSnapshot>>();

  async stageRebuild(nodes: readonly NodeSnapshot[]): Promise<StagedNodes> {
    this.check(`stage ${nodes.length}`);
    const handle: StagedNodes = { size: nodes.length };
    this.staged.set(handle, new Map(nodes.map((n) => [n.name, n])));
    return handle;
  }

  async rebuild(input: {
    nodes: readonly NodeSnapshot[];
    podCounts: Readonly<Record<string, number>>;
    allocation: Readonly<Record<string, NodeAllocation>>;
    reason: ResyncReason;
    staged?: StagedNodes;
  }): Promise<number> {
    if (input.staged !== undefined && !this.staged.delete(input.staged))
      throw new Error('rebuild: a staging not of this writer, or used twice');
    this.check(`rebuild ${input.reason}${input.staged ? ' (staged)' : ''}`);
    this.store.nodes = new Map(input.nodes.map((n) => [n.name, n]));
    this.store.pods = { ...input.podCounts };
    this.store.allocation = { ...input.allocation };
    this.store.status = 'ready';
    this.store.syncedAt = new Date(tick()).toISOString();
    return (this.store.seq += 1);
  }

  async applyNodeChanges(changes: readonly NodeCacheChange[]): Promise<number> {
    this.check(
      `nodes ${changes.map((c) => `${c.type}:${c.type === 'node_delete' ? c.name : c.node.name}`).join(',')}`,
    );
    for (const c of changes) {
      if (c.type === 'node_delete') this.store.nodes.delete(c.name);
      else this.store.nodes.set(c.node.name, c.node);
    }
    return (this.store.seq += changes.length);
  }

  async applyPodDeltas(
    deltas: Readonly<Record<string, number>>,
    allocation: Readonly<Record<string, NodeAllocation>>,
  ): Promise<number> {
    const allocated = Object.keys(allocation).length > 0 ? ` ${JSON.stringify(allocation)}` : '';
    this.check(`pods ${JSON.stringify(deltas)}${allocated}`);
    for (const [n, d] of Object.entries(deltas)) {
      const v = (this.store.pods[n] ?? 0) + d;
      if (v === 0) delete this.store.pods[n];
      else this.store.pods[n] = v;
    }
    for (const [n, a] of Object.entries(allocation)) {
      if (Object.keys(a.requests).length + Object.keys(a.limits).length === 0)
        delete this.store.allocation[n];
      else this.store.allocation[n] = a;
    }
    return (this.store.seq += 1);
  }

  async markSynced(listedAt: Date): Promise<void> {
    this.check('synced');
    const at = listedAt.toISOString();
    if (this.store.syncedAt === undefined || at > this.store.syncedAt) this.store.syncedAt = at;
  }

  async setStatus(status: WatcherStatus, error?: string): Promise<void> {
    this.check(`status ${status}${error ? ` (${error})` : ''}`);
    this.store.status = status;
  }

  async heartbeat(): Promise<void> {
    this.check('heartbeat');
    this.calls.pop();
  }
}

const node = (name: string, labels: Record<string, string> = {}, heartbeat = 't0'): NodeSnapshot =>
  projectNode({
    metadata: { name, uid: `uid-${name}`, resourceVersion: heartbeat, labels },
    status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: heartbeat }] },
  });
const pod = (uid: string, nodeName?: string, phase = 'Running'): PodRecord => ({ uid, nodeName, phase });

const syncs: ClusterSync[] = [];
afterEach(async () => {
  await Promise.all(syncs.splice(0).map((s) => s.stop()));
});

function setup(options: Partial<ClusterSyncOptions> = {}) {
  const nodes = new FakeSource<NodeSnapshot>('nodes', (n) => n.name);
  const pods = new FakeSource<PodRecord>('pods', (p) => p.uid);
  const suppressed = { count: 0 };
  const sync = new ClusterSync({
    nodes,
    pods,
    coalesceMs: 30,
    heartbeatMs: 50,
    isFenced: (e) => e instanceof Fenced,
    writeBackoff: { next: () => 10, reset: () => undefined },
    reflector: {
      watchTimeoutSeconds: () => 60,
      minWatchDurationMs: 0,
      backoff: { next: () => 5, reset: () => undefined },
    },
    observer: { onSuppressed: () => (suppressed.count += 1) },
    now: tick,
    ...options,
  });
  syncs.push(sync);
  const expected = (): { nodes: string[]; pods: Record<string, number> } => {
    const counts: Record<string, number> = {};
    for (const p of (pods as unknown as { objects: Map<string, PodRecord> }).objects.values()) {
      if (p.nodeName && p.phase !== 'Succeeded' && p.phase !== 'Failed')
        counts[p.nodeName] = (counts[p.nodeName] ?? 0) + 1;
    }
    return {
      nodes: [...(nodes as unknown as { objects: Map<string, NodeSnapshot> }).objects.keys()].sort(),
      pods: counts,
    };
  };
  return { nodes, pods, sync, suppressed, expected };
}

const stateOf = (w: MemoryWriter): { nodes: string[]; pods: Record<string, number> } => ({
  nodes: [...w.nodes.keys()].sort(),
  pods: { ...w.pods },
});

describe('ClusterSync', () => {
  it('says syncing, rebuilds an empty Redis once both lists are in, then writes node changes and coalesced pod deltas', async () => {
    const { nodes, pods, sync, expected } = setup();
    nodes.upsert(node('a'));
    pods.upsert(pod('p1', 'a'));
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => writer.calls.some((c) => c.startsWith('rebuild')), { what: 'the first rebuild' });
    // The nodes are staged first when their list is in before the pods' (either may finish first here).
    expect(writer.calls.slice(0, 2)).toEqual(['status syncing', 'read']);
    expect(writer.calls.filter((c) => c !== 'stage 1').slice(2)).toEqual([
      writer.calls.includes('stage 1') ? 'rebuild rebuild (staged)' : 'rebuild rebuild',
    ]);
    expect(stateOf(writer)).toEqual(expected());
    await waitFor(() => nodes.openWatches === 1 && pods.openWatches === 1);
    writer.calls.length = 0;

    nodes.upsert(node('b'));
    nodes.upsert(node('a', { env: 'prod' }));
    for (let i = 0; i < 50; i++) pods.upsert(pod(`q${i}`, i % 2 ? 'a' : 'b'));
    pods.upsert(pod('p1', 'a', 'Succeeded'));
    await waitFor(() => isDeepStrictEqual(stateOf(writer), expected()), { what: 'convergence' });
    expect(writer.calls.filter((c) => c.startsWith('nodes'))).toEqual([
      'nodes node_add:b',
      'nodes node_update:a',
    ]);
    expect(writer.calls.filter((c) => c.startsWith('pods')).length).toBeLessThanOrEqual(2);
    expect(writer.nodes.get('a')?.labels).toEqual({ env: 'prod' });
    expect(sync.serving).toBe(true);
  });

  it('stages the nodes while the pods are still listing; the rebuild then swaps them in with what changed since', async () => {
    const { nodes, pods, sync, expected } = setup({
      reflector: {
        watchTimeoutSeconds: () => 60,
        minWatchDurationMs: 0,
        backoff: { next: () => 300, reset: () => undefined },
      },
    });
    nodes.upsert(node('a'));
    nodes.upsert(node('b'));
    pods.upsert(pod('p1', 'a'));
    pods.failNext(new ApiUnreachableError('pods not yet'));
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => writer.calls.includes('stage 2'), { what: 'the nodes staged' });
    expect(sync.synced).toBe(false);
    // Changes while the pods list: in the rebuild, not written on their own.
    nodes.upsert(node('a', { env: 'prod' }));
    nodes.delete('b');
    nodes.upsert(node('c'));
    await waitFor(() => sync.serving, { what: 'serving' });
    // (The failed pod list shows as `degraded` meanwhile.)
    expect(writer.calls.filter((c) => !c.startsWith('status'))).toEqual([
      'read',
      'stage 2',
      'rebuild rebuild (staged)',
    ]);
    expect(stateOf(writer)).toEqual(expected());
    expect(writer.nodes.get('a')?.labels).toEqual({ env: 'prod' });
  });

  it("reads Redis once the nodes are listed, and only diffs (no staging) when it holds this life's state", async () => {
    const { nodes, pods, sync } = setup({
      reflector: {
        watchTimeoutSeconds: () => 60,
        minWatchDurationMs: 0,
        backoff: { next: () => 300, reset: () => undefined },
      },
    });
    nodes.upsert(node('a'));
    pods.upsert(pod('p1', 'a'));
    const writer = new MemoryWriter();
    writer.store.syncedAt = new Date(0).toISOString();
    writer.store.nodes.set('a', node('a'));
    pods.failNext(new ApiUnreachableError('pods not yet'));
    sync.lead(writer);
    sync.start();
    await waitFor(() => sync.serving, { what: 'serving' });
    // One read (ahead, used by the reconcile), no staging, no rebuild: the differences only.
    expect(
      writer.calls.filter((c) => c === 'read' || c.startsWith('stage') || c.startsWith('rebuild')),
    ).toEqual(['read']);
    expect(writer.pods).toEqual({ a: 1 });
  });

  it('drops heartbeat-only node updates without writing', async () => {
    const { nodes, sync, suppressed } = setup();
    nodes.upsert(node('a'));
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => sync.serving && nodes.openWatches === 1);
    writer.calls.length = 0;
    for (let i = 1; i <= 20; i++) nodes.upsert(node('a', {}, `t${i}`));
    nodes.upsert(node('a', { x: 'y' }, 't21'));
    await waitFor(() => writer.calls.length === 1);
    expect(writer.calls).toEqual(['nodes node_update:a']);
    expect(suppressed.count).toBe(20);
  });

  it('writes a relist (410) as ordinary changes: deletes missed during a disconnect, net pod deltas, syncedAt; no rebuild', async () => {
    const { nodes, pods, sync, expected } = setup();
    nodes.upsert(node('a'));
    nodes.upsert(node('b'));
    pods.upsert(pod('p1', 'a'));
    pods.upsert(pod('p2', 'b'));
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => sync.serving && nodes.openWatches === 1 && pods.openWatches === 1);
    const syncedBefore = writer.store.syncedAt;
    writer.calls.length = 0;
    nodes.silently(() => {
      nodes.delete('b');
      nodes.upsert(node('a', { env: 'prod' }));
    });
    pods.silently(() => {
      pods.delete('p2');
      pods.upsert(pod('p3', 'a'));
    });
    nodes.compact();
    pods.compact();
    nodes.dropWatches();
    pods.dropWatches();
    await waitFor(
      () => sync.reflectors.nodes.phase === 'watching' && sync.reflectors.pods.phase === 'watching',
    );
    await waitFor(() => isDeepStrictEqual(stateOf(writer), expected()), { what: 'convergence' });
    expect(stateOf(writer)).toEqual({ nodes: ['a'], pods: { a: 2 } });
    expect(writer.calls.filter((c) => c.startsWith('rebuild'))).toEqual([]);
    expect(writer.calls).toContain('nodes node_delete:b,node_update:a');
    expect(writer.calls).toContain('pods {"a":1,"b":-1}');
    expect(writer.calls.filter((c) => c === 'synced').length).toBeGreaterThanOrEqual(1);
    expect(writer.store.syncedAt! > syncedBefore!).toBe(true);
    expect(sync.serving).toBe(true);
  });

  it('a new leader with a warm cache writes only what Redis lacks: no rebuild, the seq continues', async () => {
    const reports: { reason: string; nodeChanges: number; podDeltas: number }[] = [];
    const { nodes, pods, sync, expected } = setup({ observer: { onReconciled: (i) => reports.push(i) } });
    nodes.upsert(node('a'));
    pods.upsert(pod('p1', 'a'));
    const first = new MemoryWriter();
    sync.lead(first);
    sync.start();
    await waitFor(() => sync.serving && nodes.openWatches === 1 && pods.openWatches === 1);
    await sync.standBy();
    // While another replica led (and died before writing them), these happened:
    nodes.upsert(node('b'));
    nodes.upsert(node('a', { zone: 'z1' }));
    pods.upsert(pod('p2', 'b'));
    pods.upsert(pod('p3', 'b'));
    pods.delete('p1');
    await waitFor(() => sync.podIndex.countOf('b') === 2 && sync.nodeCache.get('b') !== undefined);
    expect(sync.podIndex.hasPendingDeltas).toBe(false);
    const seqBefore = first.store.seq;
    const next = new MemoryWriter(first.store);
    reports.length = 0;
    sync.lead(next);
    await waitFor(() => sync.serving, { what: 'serving' });
    expect(stateOf(next)).toEqual(expected());
    // The cache's list is older than the rebuild's syncedAt: nothing to record; a new writer states its status.
    expect(next.calls).toEqual([
      'read',
      'nodes node_update:a,node_add:b',
      'pods {"b":2,"a":-1}',
      'status ready',
    ]);
    expect(next.store.seq).toBe(seqBefore + 3);
    expect(reports).toEqual([
      { reason: 'lead', nodeChanges: 2, podDeltas: 2, allocations: 0, durationMs: expect.any(Number) },
    ]);
  });

  it('writes allocation with the pod counts: in the rebuild, on every change (resize too), and as differences on a new term', async () => {
    const { nodes, pods, sync } = setup();
    const sized = (uid: string, nodeName: string, cpu: number, phase = 'Running'): PodRecord => ({
      ...pod(uid, nodeName, phase),
      resources: { requests: { cpu, memory: 2 ** 30 }, limits: { memory: 2 ** 31 } },
    });
    nodes.upsert(node('a'));
    nodes.upsert(node('b'));
    pods.upsert(sized('p1', 'a', 250));
    pods.upsert(sized('p2', 'a', 500));
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => sync.serving && pods.openWatches === 1, { what: 'serving' });
    expect(writer.store.allocation).toEqual({
      a: { requests: { cpu: 750, memory: 2 ** 31 }, limits: { memory: 2 ** 32 } },
    });
    writer.calls.length = 0;
    // In place resize (no count change) and a pod to b: one coalesced write with both.
    pods.upsert(sized('p1', 'a', 1000));
    pods.upsert(sized('p3', 'b', 100));
    await waitFor(() => writer.calls.some((c) => c.startsWith('pods')), { what: 'the flush' });
    expect(writer.calls).toEqual([
      'pods {"b":1} {"a":{"requests":{"cpu":1500,"memory":2147483648},"limits":{"memory":4294967296}},' +
        '"b":{"requests":{"cpu":100,"memory":1073741824},"limits":{"memory":2147483648}}}',
    ]);
    await sync.standBy();
    // While standing by: b's pod completes. Redis also holds a stale entry for a gone node.
    pods.upsert(sized('p3', 'b', 100, 'Succeeded'));
    await waitFor(() => sync.podIndex.countOf('b') === 0);
    writer.store.allocation['gone'] = { requests: { cpu: 1 }, limits: {} };
    const next = new MemoryWriter(writer.store);
    sync.lead(next);
    await waitFor(() => sync.serving, { what: 'serving again' });
    expect(next.calls).toContain(
      'pods {"b":-1} {"b":{"requests":{},"limits":{}},"gone":{"requests":{},"limits":{}}}',
    );
    expect(next.store.allocation).toEqual(sync.podIndex.allocations());
    expect(Object.keys(next.store.allocation)).toEqual(['a']);
  });

  it('rebuilds (the one resync) only when Redis holds no state of this life (no syncedAt)', async () => {
    const { nodes, sync } = setup();
    nodes.upsert(node('a'));
    const first = new MemoryWriter();
    sync.lead(first);
    sync.start();
    await waitFor(() => sync.serving && nodes.openWatches === 1);
    await sync.standBy();
    // Redis lost its data: the lease's data-loss path leaves meta without syncedAt.
    first.store.nodes.clear();
    first.store.syncedAt = undefined;
    const next = new MemoryWriter(first.store);
    sync.lead(next);
    await waitFor(() => sync.serving);
    expect(next.calls.slice(0, 2)).toEqual(['read', 'rebuild rebuild']);
    expect([...next.nodes.keys()]).toEqual(['a']);
  });

  it('a standby keeps no pending pod deltas (they would grow with every node name it sees)', async () => {
    const { pods, sync } = setup();
    sync.start();
    await waitFor(() => pods.openWatches === 1);
    for (let i = 0; i < 100; i++) pods.upsert(pod(`p${i}`, `node-${i}`));
    await waitFor(() => sync.podIndex.size === 100);
    expect(sync.podIndex.hasPendingDeltas).toBe(false);
    expect(sync.state).toBe('standby');
  });

  it('stops writing at once when fenced, and tells the listeners', async () => {
    const { nodes, sync } = setup();
    const writer = new MemoryWriter();
    const fenced: string[] = [];
    sync.onFenced((e) => fenced.push(e.name));
    sync.lead(writer);
    sync.start();
    await waitFor(() => sync.serving && nodes.openWatches === 1);
    writer.fenced = true;
    nodes.upsert(node('x'));
    await waitFor(() => fenced.length === 1);
    expect(sync.leading).toBe(false);
    writer.fenced = false;
    const before = writer.calls.length;
    nodes.upsert(node('y'));
    await waitFor(() => sync.nodeCache.get('y') !== undefined);
    // A new term reconciles from the warm caches: only what Redis lacks.
    const next = new MemoryWriter(writer.store);
    sync.lead(next);
    await waitFor(() => sync.serving);
    expect(next.calls).toEqual(['read', 'nodes node_add:x,node_add:y', 'status ready']);
    // Everything decided before the new term went through the queue before its
    // reconcile, and the old term's timers are gated by term: the fenced writer got nothing.
    expect(writer.calls.length).toBe(before);
    expect([...next.nodes.keys()].sort()).toEqual(['x', 'y']);
  });

  it('counts a write refused by the fence after its term ended, without ending the next term', async () => {
    const refused: string[] = [];
    const { nodes, sync } = setup({ observer: { onWriteFenced: (kind) => refused.push(kind) } });
    const fenced: string[] = [];
    sync.onFenced((e) => fenced.push(e.name));
    const zombie = new MemoryWriter();
    sync.lead(zombie);
    sync.start();
    await waitFor(() => sync.serving && nodes.openWatches === 1);
    // A write in flight when the lease ends (the zombie woke up): the fence refuses it after standBy.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const apply = zombie.applyNodeChanges.bind(zombie);
    let inFlight = false;
    zombie.applyNodeChanges = async (changes) => {
      inFlight = true;
      await held;
      zombie.fenced = true;
      return apply(changes);
    };
    nodes.upsert(node('late'));
    await waitFor(() => inFlight, { what: 'the node write in flight' });
    const standingBy = sync.standBy();
    const next = new MemoryWriter(zombie.store);
    release();
    await standingBy;
    sync.lead(next);
    await waitFor(() => sync.serving && next.calls.includes('read'));
    expect(refused).toEqual(['nodes']);
    // Not the current term's writer: no listener hears of it and the new leader keeps leading.
    expect(fenced).toEqual([]);
    expect(sync.leading).toBe(true);
  });

  it('repairs a failed write by reconciling (the differences only, no rebuild) instead of writing on top of an unknown state', async () => {
    const states: string[] = [];
    const { nodes, pods, sync, expected } = setup({ observer: { onState: (s) => states.push(s) } });
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => sync.serving && pods.openWatches === 1 && nodes.openWatches === 1);
    writer.calls.length = 0;
    writer.failNext = 1;
    nodes.upsert(node('a'));
    await waitFor(() => states.includes('repairing'), { what: 'repairing' });
    pods.upsert(pod('p1', 'a'));
    await waitFor(() => sync.serving && isDeepStrictEqual(stateOf(writer), expected()), { what: 'repaired' });
    expect(stateOf(writer)).toEqual({ nodes: ['a'], pods: { a: 1 } });
    expect(writer.calls.filter((c) => c.startsWith('rebuild'))).toEqual([]);
    expect(writer.calls.slice(0, 2)).toEqual(['read', 'nodes node_add:a']);
    expect(states).toEqual(['reconciling', 'serving', 'repairing', 'serving']);
  });

  it('a write that fails before both lists are in is repaired once they are (not left repairing)', async () => {
    const states: string[] = [];
    const { sync } = setup({ observer: { onState: (s) => states.push(s) } });
    const writer = new MemoryWriter();
    writer.failNext = 1;
    sync.lead(writer);
    await waitFor(() => states.join() === 'reconciling,repairing,reconciling', {
      what: 'the repair to wait',
    });
    sync.start();
    await waitFor(() => sync.serving, { what: 'serving' });
    expect(writer.calls).toEqual(['status syncing', 'read', 'rebuild rebuild']);
  });

  it('keeps claiming ready (not syncing) for status changes while it repairs a failed write', async () => {
    const { nodes, sync } = setup({ writeBackoff: { next: () => 500, reset: () => undefined } });
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => sync.serving && nodes.openWatches === 1);
    writer.calls.length = 0;
    writer.failNext = 1;
    nodes.upsert(node('a'));
    await waitFor(() => sync.state === 'repairing');
    // The API blips while the repair waits: degraded, then ready again.
    nodes.failNext(new ApiUnreachableError('connect ECONNREFUSED'));
    nodes.breakWatches();
    await waitFor(() => writer.calls.includes('status ready'), { what: 'ready again' });
    expect(sync.state).toBe('repairing');
    await waitFor(() => sync.serving, { what: 'repaired' });
    expect(writer.calls.filter((c) => c.startsWith('status'))).toEqual([
      'status degraded (nodes: connect ECONNREFUSED)',
      'status ready',
    ]);
  });

  it('reports degraded with the error while the API is unreachable, ready when it is back', async () => {
    const { nodes, pods, sync } = setup();
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => sync.serving && nodes.openWatches === 1 && pods.openWatches === 1);
    nodes.failNext(
      new ApiUnreachableError('connect ECONNREFUSED'),
      new ApiUnreachableError('connect ECONNREFUSED'),
    );
    nodes.breakWatches();
    await waitFor(() => writer.calls.some((c) => c.startsWith('status degraded')), { what: 'degraded' });
    expect(writer.calls.find((c) => c.startsWith('status degraded'))).toBe(
      'status degraded (nodes: connect ECONNREFUSED)',
    );
    await waitFor(() => writer.status === 'ready', { what: 'ready again' });
    expect(sync.status).toEqual({ status: 'ready' });
  });

  it('flushes pending pod deltas on stop', async () => {
    const { pods, sync } = setup({ coalesceMs: 10_000 });
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => sync.serving && pods.openWatches === 1);
    pods.upsert(pod('p1', 'a'));
    pods.upsert(pod('p2', 'a'));
    await waitFor(() => sync.podIndex.size === 2);
    expect(writer.pods).toEqual({});
    await sync.stop();
    expect(writer.pods).toEqual({ a: 2 });
    expect(writer.calls.at(-1)).toBe('pods {"a":2}');
  });
});
