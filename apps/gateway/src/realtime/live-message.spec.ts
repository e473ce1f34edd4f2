import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { projectNode, toClusterName, type Envelope, type KubeNodeLike } from '@knm/contracts';
import { generateWorld } from '@knm/fake-cluster';
import { LiveMessage } from './live-message.js';

const cluster = toClusterName('dev');
const timestamp = '2026-12-03T10:00:00.000Z';
const world = generateWorld({ nodes: 40, pods: 0, seed: 3, clusterName: 'dev', now: new Date(timestamp) });
const nodes = world.nodes.map((n) => projectNode(n as KubeNodeLike));

/** A node_update of each node from seq `from` on, with a label of `step`. */
function updates(from: number, step: number): Envelope[] {
  return nodes.map((n, i) => ({
    type: 'node_update',
    cluster,
    seq: from + i,
    timestamp,
    node: n.name,
    changes: ['labels'],
    data: { ...n, labels: { ...n.labels, step: String(step) } },
  }));
}

function inflated(data: Uint8Array): unknown {
  return JSON.parse(inflateRawSync(data).toString('utf8'));
}

describe('LiveMessage', () => {
  it('one envelope: its own event, plain; compressed as a live batch of it when large', () => {
    const [envelope] = updates(8, 1) as [Envelope];
    const small = new LiveMessage([envelope], 64 * 1024);
    expect(small).toMatchObject({ fromSeq: 7, seq: 8, event: 'node_update', payload: envelope });
    expect(small.bytes).toBe(JSON.stringify(envelope).length);
    expect(small.compressible).toBe(false);

    const large = new LiveMessage([envelope], 100);
    expect(large.compressible).toBe(true);
    const { message, bytes } = large.compressed();
    expect(message).toMatchObject({
      type: 'batch',
      cluster,
      fromSeq: 7,
      seq: 8,
      live: true,
      encoding: 'deflate',
    });
    expect(inflated(message.data as Uint8Array)).toEqual([JSON.parse(JSON.stringify(envelope))]);
    expect(bytes).toBeGreaterThan((message.data as Uint8Array).length);
    // Made once for every socket that takes it.
    expect(large.compressed()).toBe(large.compressed());
  });

  it('a run: one live batch, folded (a node changed twice goes once, at its latest state)', () => {
    const first = updates(1, 1);
    const again = updates(1 + first.length, 2);
    const run = [...first, ...again];
    const message = new LiveMessage(run, 16 * 1024);
    expect(message).toMatchObject({ fromSeq: 0, seq: run.length, event: 'batch', envelopes: nodes.length });
    expect(message.payload).toMatchObject({ type: 'batch', fromSeq: 0, seq: run.length, live: true });
    expect(message.payload).toHaveProperty('envelopes', again);
    expect(message.bytes).toBe(JSON.stringify(message.payload).length);

    expect(message.compressible).toBe(true);
    const { message: compressed, bytes } = message.compressed();
    expect(compressed).toMatchObject({ fromSeq: 0, seq: run.length, live: true, encoding: 'deflate' });
    expect(inflated(compressed.data as Uint8Array)).toEqual(JSON.parse(JSON.stringify(again)));
    expect(bytes * 4).toBeLessThan(message.bytes);
  });
});
