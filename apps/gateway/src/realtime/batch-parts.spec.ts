import { describe, expect, it } from 'vitest';
import {
  BatchMessageSchema,
  projectNode,
  toClusterName,
  type BatchMessage,
  type Envelope,
  type KubeNodeLike,
  type NodeAllocation,
} from '@knm/contracts';
import { generateWorld } from '@knm/fake-cluster';
import { BatchParts, type BatchPart } from './batch-parts.js';

const cluster = toClusterName('dev');
const timestamp = '2026-12-03T10:00:00.000Z';
const world = generateWorld({ nodes: 40, pods: 400, seed: 11, clusterName: 'dev', now: new Date(timestamp) });
const nodes = world.nodes.map((n) => projectNode(n as KubeNodeLike));

/** A folded batch as a catch-up carries it: node states, a delete, every node's count and allocation, the status. */
function catchUp(fromSeq: number): BatchMessage {
  const counts: Record<string, number> = {};
  const allocation: Record<string, NodeAllocation> = {};
  nodes.forEach((n, i) => {
    counts[n.name] = i % 7;
    allocation[n.name] = { requests: { cpu: 100 * i, memory: 2 ** 20 * i }, limits: { cpu: 200 * i } };
  });
  const envelopes: Envelope[] = [
    ...nodes.slice(1).map((data, i): Envelope => ({
      type: 'node_add',
      cluster,
      seq: 90 + i,
      timestamp,
      node: data.name,
      data,
    })),
    { type: 'node_delete', cluster, seq: 95, timestamp, node: 'gone', data: { uid: 'u-gone' } },
    { type: 'pod_counts', cluster, seq: 140, timestamp, data: { counts } },
    { type: 'allocation', cluster, seq: 140, timestamp, data: { nodes: allocation } },
    { type: 'cluster_status', cluster, seq: 141, timestamp, data: { status: 'ready', nodeCount: 39 } },
  ];
  return { type: 'batch', cluster, fromSeq, seq: 141, envelopes };
}

/** What a client's view holds after applying `envelopes` in order: nodes, counts and allocations by name. */
function applied(envelopes: readonly Envelope[]): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const e of envelopes) {
    if (e.type === 'node_add' || e.type === 'node_update') state[`node/${e.node}`] = e.data;
    else if (e.type === 'node_delete') state[`node/${e.node}`] = 'deleted';
    else if (e.type === 'pod_counts')
      for (const [k, v] of Object.entries(e.data.counts)) state[`count/${k}`] = v;
    else if (e.type === 'allocation')
      for (const [k, v] of Object.entries(e.data.nodes)) state[`alloc/${k}`] = v;
    else state[e.type] = e.data;
  }
  return state;
}

function allParts(plan: BatchParts): BatchPart[] {
  const out: BatchPart[] = [];
  for (let part = plan.part(0); part; part = plan.part(out.length)) {
    out.push(part);
    if (out.length > 10_000) throw new Error('the parts never end');
  }
  return out;
}

describe('BatchParts', () => {
  it('cuts a batch into numbered parts of at most the size asked for that apply to what the batch applies', () => {
    const batch = catchUp(80);
    const whole = JSON.stringify(batch).length;
    const maxBytes = 6_000;
    const parts = allParts(new BatchParts(batch, maxBytes));
    expect(parts.length).toBeGreaterThanOrEqual(Math.floor(whole / maxBytes));
    parts.forEach(({ batch: part, json, bytes }, i) => {
      expect(BatchMessageSchema.parse(part)).toEqual(part);
      expect(part).toMatchObject({ cluster, fromSeq: 80, seq: 141, part: i });
      expect(part.more).toBe(i < parts.length - 1 ? true : undefined);
      expect(JSON.parse(json ?? '')).toEqual(JSON.parse(JSON.stringify(part.envelopes)));
      expect(bytes).toBe(JSON.stringify(part).length);
      // Within the size, but for a part that carries a single node envelope larger than it.
      if (part.envelopes.length > 1) expect(json?.length).toBeLessThanOrEqual(maxBytes);
    });
    expect(parts.some((p) => p.batch.envelopes.length > 1)).toBe(true);
    const cut = parts.flatMap((p) => p.batch.envelopes);
    expect(applied(cut)).toEqual(applied(batch.envelopes));
    // The count and allocation maps were cut between nodes, into envelopes of their own kind.
    expect(cut.filter((e) => e.type === 'allocation').length).toBeGreaterThan(1);
    expect(cut.filter((e) => e.type === 'pod_counts').every((e) => e.seq === 140)).toBe(true);
  });

  it('moves forward by at least one envelope or entry however small the size, and is one part when it fits', () => {
    const batch = catchUp(0);
    const tiny = allParts(new BatchParts(batch, 1));
    expect(tiny.every((p) => p.batch.envelopes.length === 1)).toBe(true);
    expect(applied(tiny.flatMap((p) => p.batch.envelopes))).toEqual(applied(batch.envelopes));
    const one = allParts(new BatchParts(batch, Infinity));
    expect(one.map((p) => [p.batch.part, p.batch.more, p.batch.envelopes])).toEqual([
      [0, undefined, batch.envelopes],
    ]);
  });

  it('cuts each part once, in order, for every socket that asks for it', () => {
    const batch = catchUp(80);
    const plan = new BatchParts(batch, 6_000);
    const third = plan.part(2);
    expect(third?.batch.part).toBe(2);
    expect(plan.part(2)).toBe(third);
    // Cutting part 2 cut the two before it, from the batch's start: the same envelope objects.
    const first = plan.part(0);
    expect(first?.batch.part).toBe(0);
    expect(first?.batch.envelopes[0]).toBe(batch.envelopes[0]);
    const parts = allParts(plan);
    expect(parts[2]).toBe(third);
    expect(plan.part(parts.length)).toBeUndefined();
  });
});
