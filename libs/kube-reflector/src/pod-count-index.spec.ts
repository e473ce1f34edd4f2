import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PodCountIndex } from './pod-count-index.js';
import type { PodRecord } from './pod-record.js';

const U1 = '0b7d6a52-1c3e-4f00-9a1b-000000000001';
const U2 = '0b7d6a52-1c3e-4f00-9a1b-000000000002';
const U3 = '0b7d6a52-1c3e-4f00-9a1b-000000000003';

type Step = { op: 'ADDED' | 'MODIFIED' | 'DELETED'; pod: PodRecord } | { op: 'RELIST'; pods: PodRecord[] };

const pod = (uid: string, nodeName?: string, phase = 'Running'): PodRecord => ({ uid, nodeName, phase });

interface Case {
  name: string;
  steps: Step[];
  counts: Record<string, number>;
  deltas: Record<string, number>;
}

const cases: Case[] = [
  {
    name: 'create unbound: not counted',
    steps: [{ op: 'ADDED', pod: pod(U1, undefined, 'Pending') }],
    counts: {},
    deltas: {},
  },
  {
    name: 'create bound',
    steps: [{ op: 'ADDED', pod: pod(U1, 'n1') }],
    counts: { n1: 1 },
    deltas: { n1: 1 },
  },
  {
    name: 'create then bind',
    steps: [
      { op: 'ADDED', pod: pod(U1, undefined, 'Pending') },
      { op: 'MODIFIED', pod: pod(U1, 'n1', 'Pending') },
      { op: 'MODIFIED', pod: pod(U1, 'n1', 'Running') },
    ],
    counts: { n1: 1 },
    deltas: { n1: 1 },
  },
  {
    name: 'delete',
    steps: [
      { op: 'ADDED', pod: pod(U1, 'n1') },
      { op: 'ADDED', pod: pod(U2, 'n1') },
      { op: 'DELETED', pod: pod(U1, 'n1') },
    ],
    counts: { n1: 1 },
    deltas: { n1: 1 },
  },
  {
    name: 'Succeeded is decremented (the drift bug)',
    steps: [
      { op: 'ADDED', pod: pod(U1, 'n1') },
      { op: 'MODIFIED', pod: pod(U1, 'n1', 'Succeeded') },
    ],
    counts: {},
    deltas: {},
  },
  {
    name: 'Failed is decremented, then its delete is a no-op',
    steps: [
      { op: 'ADDED', pod: pod(U1, 'n1') },
      { op: 'ADDED', pod: pod(U2, 'n1') },
      { op: 'MODIFIED', pod: pod(U1, 'n1', 'Failed') },
      { op: 'DELETED', pod: pod(U1, 'n1', 'Failed') },
    ],
    counts: { n1: 1 },
    deltas: { n1: 1 },
  },
  {
    name: 'migration to another node',
    steps: [
      { op: 'ADDED', pod: pod(U1, 'n1') },
      { op: 'MODIFIED', pod: pod(U1, 'n2') },
    ],
    counts: { n2: 1 },
    deltas: { n2: 1 },
  },
  {
    name: 're-add of a known uid is idempotent',
    steps: [
      { op: 'ADDED', pod: pod(U1, 'n1') },
      { op: 'ADDED', pod: pod(U1, 'n1') },
      { op: 'MODIFIED', pod: pod(U1, 'n1') },
    ],
    counts: { n1: 1 },
    deltas: { n1: 1 },
  },
  {
    name: 'delete of an unknown uid is a no-op',
    steps: [{ op: 'DELETED', pod: pod(U3, 'n1') }],
    counts: {},
    deltas: {},
  },
  {
    name: 'missed delete during a disconnect is found on relist',
    steps: [
      { op: 'ADDED', pod: pod(U1, 'n1') },
      { op: 'ADDED', pod: pod(U2, 'n2') },
      { op: 'RELIST', pods: [pod(U2, 'n2')] },
    ],
    counts: { n2: 1 },
    deltas: { n2: 1 },
  },
  {
    name: 'relist: adds, migration, completion and deletes in one diff',
    steps: [
      { op: 'ADDED', pod: pod(U1, 'n1') },
      { op: 'ADDED', pod: pod(U2, 'n1') },
      {
        op: 'RELIST',
        pods: [pod(U1, 'n2'), pod(U2, 'n1', 'Succeeded'), pod(U3, 'n3'), pod('not-a-uuid', 'n3')],
      },
    ],
    counts: { n2: 1, n3: 2 },
    deltas: { n2: 1, n3: 2 },
  },
  {
    name: 'relist to an empty cluster',
    steps: [
      { op: 'ADDED', pod: pod(U1, 'n1') },
      { op: 'RELIST', pods: [] },
    ],
    counts: {},
    deltas: {},
  },
  {
    name: 'non-UUID uids work the same',
    steps: [
      { op: 'ADDED', pod: pod('pod-a', 'n1') },
      { op: 'ADDED', pod: pod('POD-B', 'n1') },
      { op: 'MODIFIED', pod: pod('pod-a', 'n2') },
      { op: 'DELETED', pod: pod('POD-B') },
    ],
    counts: { n2: 1 },
    deltas: { n2: 1 },
  },
];

describe('PodCountIndex', () => {
  it.each(cases)('$name', ({ steps, counts, deltas }) => {
    const index = new PodCountIndex();
    for (const step of steps) {
      if (step.op === 'RELIST') index.replace(step.pods);
      else index.apply(step.op, step.pod);
    }
    expect(index.counts()).toEqual(counts);
    expect(index.takeDeltas()).toEqual(deltas);
    expect(index.takeDeltas()).toEqual({});
    expect(index.size).toBe(Object.values(counts).reduce((a, b) => a + b, 0));
  });

  it('emits deltas relative to the last take, netting out changes in between', () => {
    const index = new PodCountIndex();
    index.apply('ADDED', pod(U1, 'n1'));
    index.apply('ADDED', pod(U2, 'n1'));
    expect(index.takeDeltas()).toEqual({ n1: 2 });
    index.apply('MODIFIED', pod(U1, 'n2'));
    index.apply('MODIFIED', pod(U1, 'n1'));
    expect(index.hasPendingDeltas).toBe(true);
    expect(index.takeDeltas()).toEqual({});
    index.replace([pod(U2, 'n1'), pod(U3, 'n2')]);
    expect(index.takeDeltas()).toEqual({ n1: -1, n2: 1 });
    index.apply('DELETED', pod(U3));
    expect(index.takeDeltas()).toEqual({ n2: -1 });
    expect(index.counts()).toEqual({ n1: 1 });
  });

  it('matches a full recount after 20,000 random events', () => {
    const index = new PodCountIndex();
    const truth = new Map<string, PodRecord>();
    const uids = Array.from({ length: 2_000 }, () => randomUUID());
    const nodes = ['a', 'b', 'c', 'd', 'e'];
    const phases = ['Pending', 'Running', 'Running', 'Succeeded', 'Failed'];
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 20_000; i++) {
      const uid = uids[rand(uids.length)] as string;
      if (rand(5) === 0) {
        truth.delete(uid);
        index.apply('DELETED', pod(uid));
      } else {
        const p = pod(
          uid,
          rand(6) === 0 ? undefined : nodes[rand(nodes.length)],
          phases[rand(phases.length)],
        );
        index.apply(truth.has(uid) ? 'MODIFIED' : 'ADDED', p);
        truth.set(uid, p);
      }
      if (i % 5_000 === 4_999) index.replace([...truth.values()]);
    }
    const recount: Record<string, number> = {};
    for (const p of truth.values()) {
      if (p.nodeName && p.phase !== 'Succeeded' && p.phase !== 'Failed') {
        recount[p.nodeName] = (recount[p.nodeName] ?? 0) + 1;
      }
    }
    expect(index.counts()).toEqual(recount);
  });
});
