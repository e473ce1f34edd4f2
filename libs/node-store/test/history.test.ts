import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRedis, makeNodeSnapshot, type TestRedis } from '@knm/testing';
import { toClusterName, type ClusterKeys, type NodeSnapshot } from '@knm/contracts';
import { FencedError, HistoryReader, NodeStoreWriter } from '../src/index.js';

const cluster = toClusterName('dev');
const T0 = Date.parse('2026-12-02T06:00:00.000Z');

let t: TestRedis;
let keys: ClusterKeys;
let now: number;
let reader: HistoryReader;

const newWriter = async (): Promise<NodeStoreWriter> => {
  const epoch = await t.client.incr(keys.epoch);
  return new NodeStoreWriter(t.client, t.keyspace, cluster, epoch, `w${epoch}`, {
    clock: () => new Date(now),
    flapRule: { transitions: 3, windowMs: 60_000 },
  });
};

/** n1 at `s` seconds after T0 with its Ready status. */
const n1 = (s: number, ready: 'True' | 'False', over: Partial<NodeSnapshot> = {}) =>
  makeNodeSnapshot('n1', {
    ready,
    conditions: [{ type: 'Ready', status: ready, lastTransitionTime: new Date(T0 + s * 1000).toISOString() }],
    ...over,
  });

/** The incident outbox, as the notification dispatcher reads it: `<kind>:<node>:<incident>`. */
const outbox = async (): Promise<string[]> =>
  (await t.client.xrange(keys.incidentEvents, '-', '+')).map(([, fields]) => {
    const transition = JSON.parse(fields[1] ?? '{}') as { kind: string; node: string; incident: string };
    return `${transition.kind}:${transition.node}:${transition.incident}`;
  });

const kinds = async (node = 'n1') =>
  (await reader.nodeHistory(cluster, node, { limit: 100 })).items.map((e) =>
    e.kind === 'condition' ? `${e.condition}=${e.status}` : e.kind,
  );

beforeEach(async () => {
  t = await createTestRedis();
  keys = t.keyspace.cluster(cluster);
  now = T0 + 3_600_000;
  reader = new HistoryReader(t.client, t.keyspace);
});
afterEach(async () => t.close());

describe('history and incidents written with node changes', () => {
  it('each change writes its entries and incidents in the same step; pages go newest first', async () => {
    const writer = await newWriter();
    await writer.applyNodeChanges([{ type: 'node_add', node: n1(0, 'True') }]);
    await writer.applyNodeChanges([{ type: 'node_update', node: n1(10, 'False'), changes: ['status'] }]);
    await writer.applyNodeChanges([
      { type: 'node_update', node: n1(25, 'True'), changes: ['status'] },
      { type: 'node_update', node: n1(25, 'True', { unschedulable: true }), changes: ['schedulable'] },
    ]);
    await writer.applyNodeChanges([{ type: 'node_delete', name: 'n1', uid: 'uid-n1' }]);

    expect(await kinds()).toEqual(['node_removed', 'cordon', 'Ready=True', 'Ready=False', 'node_added']);
    const first = await reader.nodeHistory(cluster, 'n1', { limit: 2 });
    expect(first.items.map((e) => e.kind)).toEqual(['node_removed', 'cordon']);
    const second = await reader.nodeHistory(cluster, 'n1', { limit: 2, before: first.next as string });
    const third = await reader.nodeHistory(cluster, 'n1', { limit: 2, before: second.next as string });
    expect([...second.items, ...third.items].map((e) => e.kind)).toEqual([
      'condition',
      'condition',
      'node_added',
    ]);
    expect(third.next).toBeUndefined();

    const incidents = await reader.incidents(cluster);
    expect(incidents).toEqual([
      expect.objectContaining({
        node: 'n1',
        start: new Date(T0 + 10_000).toISOString(),
        durationMs: 15_000,
        endReason: 'recovered',
      }),
    ]);
    expect(await reader.incidents(cluster, { open: true })).toEqual([]);
    const id = `n1:${T0 + 10_000}`;
    expect(await outbox()).toEqual([`opened:n1:${id}`, `resolved:n1:${id}`]);
    // The node is gone and healthy: nothing left to track.
    expect(await t.client.hlen(keys.incidentNodes)).toBe(0);
  });

  it('a new leader writing the same state again adds nothing; the old one is fenced and writes no entry', async () => {
    const a = await newWriter();
    await a.applyNodeChanges([{ type: 'node_add', node: n1(0, 'True') }]);
    await a.applyNodeChanges([{ type: 'node_update', node: n1(5, 'False'), changes: ['status'] }]);
    const b = await newWriter();
    // B's reconcile derives from what Redis holds, so a change A already wrote is not doubled ...
    await b.applyNodeChanges([{ type: 'node_update', node: n1(5, 'False'), changes: ['status'] }]);
    // ... and A's late write of a change B has not seen is refused whole.
    await expect(
      a.applyNodeChanges([{ type: 'node_update', node: n1(9, 'True'), changes: ['status'] }]),
    ).rejects.toThrow(FencedError);
    await b.applyNodeChanges([{ type: 'node_update', node: n1(9, 'True'), changes: ['status'] }]);
    expect(await kinds()).toEqual(['Ready=True', 'Ready=False', 'node_added']);
    expect(await reader.incidents(cluster)).toEqual([expect.objectContaining({ durationMs: 4_000 })]);
    // One opening and one resolving in the outbox: notified once, whoever wrote them.
    expect(await outbox()).toEqual([`opened:n1:n1:${T0 + 5_000}`, `resolved:n1:n1:${T0 + 5_000}`]);
  });

  it("refuses a batch whose node changed between the writer's read and the script, and derives it again", async () => {
    const writer = await newWriter();
    await writer.applyNodeChanges([{ type: 'node_add', node: n1(0, 'True') }]);
    // A client whose pipeline (the writer's read of the stored state) is followed, once, by
    // another write of the node: the state the entries were derived from is gone.
    let raced = false;
    const racing = new Proxy(t.client, {
      get(target, prop, receiver) {
        if (prop !== 'pipeline') return Reflect.get(target, prop, receiver) as unknown;
        return () => {
          const pipeline = target.pipeline();
          const exec = pipeline.exec.bind(pipeline);
          return Object.assign(pipeline, {
            exec: async () => {
              const results = await exec();
              if (!raced) {
                raced = true;
                await target.hset(keys.nodes, 'n1', JSON.stringify(n1(3, 'True', { unschedulable: true })));
              }
              return results;
            },
          });
        };
      },
    });
    const epoch = Number(await t.client.get(keys.epoch));
    const late = new NodeStoreWriter(racing, t.keyspace, cluster, epoch, 'racer', {
      clock: () => new Date(now),
    });
    await late.applyNodeChanges([{ type: 'node_update', node: n1(7, 'False'), changes: ['status'] }]);
    expect(raced).toBe(true);
    // Derived from what Redis held when the script ran (cordoned), not from the first read:
    // the cordon that was never written through the writer is undone, Ready goes False, once.
    expect(await kinds()).toEqual(['uncordon', 'Ready=False', 'node_added']);
    expect(await reader.incidents(cluster, { open: true })).toHaveLength(1);
  });

  it('marks incidents flapping by the rule and keeps each period its own incident', async () => {
    const writer = await newWriter();
    await writer.applyNodeChanges([{ type: 'node_add', node: n1(0, 'True') }]);
    for (let s = 1; s <= 4; s += 1) {
      await writer.applyNodeChanges([
        { type: 'node_update', node: n1(s, s % 2 === 1 ? 'False' : 'True'), changes: ['status'] },
      ]);
    }
    const incidents = await reader.incidents(cluster);
    expect(incidents.map((i) => [i.start, i.durationMs, i.flapping])).toEqual([
      [new Date(T0 + 3_000).toISOString(), 1_000, true],
      [new Date(T0 + 1_000).toISOString(), 1_000, false],
    ]);
    expect(await reader.incidents(cluster, { sinceMs: T0 + 2_500 })).toHaveLength(1);
  });

  it('trims history by age and closed incidents older than the history days', async () => {
    const writer = new NodeStoreWriter(
      t.client,
      t.keyspace,
      cluster,
      Number(await t.client.incr(keys.epoch)),
      'w',
      {
        clock: () => new Date(now),
        historyDays: 1,
      },
    );
    await writer.applyNodeChanges([{ type: 'node_add', node: n1(0, 'True') }]);
    await writer.applyNodeChanges([{ type: 'node_update', node: n1(1, 'False'), changes: ['status'] }]);
    await writer.applyNodeChanges([{ type: 'node_update', node: n1(2, 'True'), changes: ['status'] }]);
    expect(await t.client.pttl(`${keys.historyPrefix}n1`)).toBeGreaterThan(86_000_000);
    now += 2 * 86_400_000;
    await writer.applyNodeChanges([{ type: 'node_add', node: makeNodeSnapshot('n2') }]);
    expect(await reader.incidents(cluster)).toEqual([]);
    expect(await t.client.hlen(keys.incidentData)).toBe(0);
  });
});
