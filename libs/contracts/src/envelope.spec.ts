import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ContractError, decode, decodeJson } from './contract-error.js';
import { EnvelopeSchema, type Envelope } from './envelope.js';
import { projectNode, type KubeNodeLike } from './project-node.js';

const snapshot = projectNode(
  JSON.parse(readFileSync(new URL('./testdata/worker-node.json', import.meta.url), 'utf8')) as KubeNodeLike,
);
const at = '2026-11-22T10:00:00.123Z';

describe('EnvelopeSchema', () => {
  const valid: Envelope[] = [
    { type: 'node_add', cluster: 'dev' as never, node: 'worker-3', seq: 1, timestamp: at, data: snapshot },
    {
      type: 'node_update',
      cluster: 'dev' as never,
      node: 'worker-3',
      seq: 2,
      changes: ['labels', 'taints'],
      timestamp: at,
      data: snapshot,
    },
    {
      type: 'node_delete',
      cluster: 'dev' as never,
      node: 'worker-3',
      seq: 3,
      timestamp: at,
      data: { uid: snapshot.uid },
    },
    {
      type: 'pod_counts',
      cluster: 'dev' as never,
      seq: 4,
      timestamp: at,
      data: { counts: { 'worker-3': 12, 'worker-4': 0 } },
    },
    {
      type: 'cluster_status',
      cluster: 'dev' as never,
      seq: 5,
      timestamp: at,
      data: { status: 'degraded', error: 'connect ECONNREFUSED 127.0.0.1:6443' },
    },
    {
      type: 'resync',
      cluster: 'dev' as never,
      seq: 6,
      timestamp: at,
      data: { reason: 'rebuild', epoch: 2 },
    },
  ];

  it.each(valid)('round-trips a $type envelope through JSON', (envelope) => {
    expect(decodeJson(EnvelopeSchema, JSON.stringify(envelope), 'envelope')).toEqual(envelope);
  });

  it.each([
    ['an unknown type', { ...valid[4], type: 'node_moved' }, 'type'],
    ['seq 0', { ...valid[3], seq: 0 }, 'seq'],
    ['a fractional seq', { ...valid[3], seq: 1.5 }, 'seq'],
    ['a node_update without changes', { ...valid[1], changes: [] }, 'changes'],
    ['an unknown aspect', { ...valid[1], changes: ['mood'] }, 'changes.0'],
    ['a bad cluster name', { ...valid[3], cluster: 'Dev:1' }, 'cluster'],
    ['a negative pod count', { ...valid[3], data: { counts: { a: -1 } } }, 'data.counts.a'],
    ['a node event without node', { ...valid[0], node: undefined }, 'node'],
  ])('rejects %s, naming the field', (_what, input, path) => {
    try {
      decode(EnvelopeSchema, input, 'envelope');
      expect.unreachable('decode should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ContractError);
      const ce = err as ContractError;
      expect(ce.issues.map((i) => i.path)).toContain(path);
      expect(ce.message).toMatch(/^invalid envelope: /);
    }
  });

  it('reports malformed JSON as a ContractError, not a SyntaxError', () => {
    expect(() => decodeJson(EnvelopeSchema, '{"type":', 'pub/sub message')).toThrow(
      /invalid pub\/sub message: not JSON/,
    );
  });
});
