import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { projectNode, type NodeSnapshot, type ResyncReason } from '@knm/contracts';
import { waitFor } from '@knm/testing';
import { FakeSource } from '../../test/fake-source.js';
import { ApiUnreachableError } from '../errors/api-unreachable-error.js';
import type { NodeCacheChange } from '../node-cache.js';
import type { PodRecord } from '../pod-record.js';
import type { ClusterStateWriter, WatcherStatus } from './cluster-state-writer.js';
import { ClusterSync, type ClusterSyncOptions } from './cluster-sync.js';

class Fenced extends Error {
  override name = 'Fenced';
}

/** A writer that keeps the state in memory, as Redis would, and records every call. */
class MemoryWriter implements ClusterStateWriter {
  nodes = new Map<string, NodeSnapshot>();
  pods: Record<string, number> = {};
  status: string | undefined;
  readonly calls: string[] = [];
  fenced = false;
  failNext = 0;

  private check(call: string): void {
    if (this.fenced) throw new Fenced('fenced');
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('redis down');
    }
    this.calls.push(call);
  }

  async rebuild(input: {
    nodes: readonly NodeSnapshot[];
    podCounts: Readonly<Record<string, number>>;
    reason: ResyncReason;
  }): Promise<number> {
    this.check(`rebuild ${input.reason}`);
    this.nodes = new Map(input.nodes.map((n) => [n.name, n]));
    this.pods = { ...input.podCounts };
    this.status = 'ready';
    return 0;
  }

  async applyNodeChanges(changes: readonly NodeCacheChange[]): Promise<number> {
    this.check(
      `nodes ${changes.map((c) => `${c.type}:${c.type === 'node_delete' ? c.name : c.node.name}`).join(',')}`,
    );
    for (const c of changes) {
      if (c.type === 'node_delete') this.nodes.delete(c.name);
      else this.nodes.set(c.node.name, c.node);
    }
    return 0;
  }

  async applyPodDeltas(deltas: Readonly<Record<string, number>>): Promise<number> {
    this.check(`pods ${JSON.stringify(deltas)}`);
    for (const [n, d] of Object.entries(deltas)) {
      const v = (this.pods[n] ?? 0) + d;
      if (v === 0) delete this.pods[n];
      else this.pods[n] = v;
    }
    return 0;
  }

  async setStatus(status: WatcherStatus, error?: string): Promise<void> {
    this.check(`status ${status}${error ? ` (${error})` : ''}`);
    this.status = status;
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
  it('says syncing, rebuilds once both lists are in, then writes node changes and coalesced pod deltas', async () => {
    const { nodes, pods, sync, expected } = setup();
    nodes.upsert(node('a'));
    pods.upsert(pod('p1', 'a'));
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => writer.calls.includes('rebuild leader_change'), { what: 'the first rebuild' });
    expect(writer.calls[0]).toBe('status syncing');
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

  it('rebuilds after a relist (410) with deletes missed during a disconnect gone', async () => {
    const { nodes, pods, sync, expected } = setup();
    nodes.upsert(node('a'));
    nodes.upsert(node('b'));
    pods.upsert(pod('p1', 'a'));
    pods.upsert(pod('p2', 'b'));
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => sync.serving && nodes.openWatches === 1 && pods.openWatches === 1);
    nodes.silently(() => nodes.delete('b'));
    pods.silently(() => pods.delete('p2'));
    nodes.compact();
    pods.compact();
    nodes.dropWatches();
    pods.dropWatches();
    await waitFor(() => writer.calls.filter((c) => c === 'rebuild relist').length === 2, {
      what: 'two relists',
    });
    expect(stateOf(writer)).toEqual(expected());
    expect(stateOf(writer)).toEqual({ nodes: ['a'], pods: { a: 1 } });
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
    await new Promise((r) => setTimeout(r, 120));
    expect(writer.calls.length).toBe(before);
    // A new term rebuilds from the warm caches.
    const next = new MemoryWriter();
    sync.lead(next);
    await waitFor(() => next.calls.includes('rebuild leader_change'));
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
    const next = new MemoryWriter();
    release();
    await standingBy;
    sync.lead(next);
    await waitFor(() => next.calls.includes('rebuild leader_change'));
    expect(refused).toEqual(['nodes']);
    // Not the current term's writer: no listener hears of it and the new leader keeps leading.
    expect(fenced).toEqual([]);
    expect(sync.leading).toBe(true);
  });

  it('rebuilds after a failed write instead of writing on top of an unknown state', async () => {
    const { nodes, pods, sync, expected } = setup();
    const writer = new MemoryWriter();
    sync.lead(writer);
    sync.start();
    await waitFor(() => sync.serving && pods.openWatches === 1);
    writer.failNext = 1;
    pods.upsert(pod('p1', 'a'));
    nodes.upsert(node('a'));
    await waitFor(() => writer.calls.includes('rebuild rebuild'), { what: 'a retry rebuild' });
    await waitFor(() => isDeepStrictEqual(stateOf(writer), expected()));
    expect(stateOf(writer)).toEqual({ nodes: ['a'], pods: { a: 1 } });
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
