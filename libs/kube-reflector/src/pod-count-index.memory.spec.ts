import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { PodCountIndex } from './pod-count-index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** JS heap plus ArrayBuffer backing stores (the index's typed arrays live outside the V8 heap). */
function heapUsed(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('PodCountIndex memory', () => {
  it('holds 150,000 pods on 5,000 nodes in at most 100 bytes of heap per pod', () => {
    const pods = 150_000;
    const before = heapUsed();
    const index = new PodCountIndex();
    for (let i = 0; i < pods; i++) {
      // Fresh strings per event, as JSON.parse produces them.
      index.apply('ADDED', {
        uid: randomUUID(),
        nodeName: `node-${String(i % 5_000).padStart(5, '0')}`,
        phase: 'Running',
      });
    }
    index.takeDeltas();
    const after = heapUsed();
    const perPod = (after - before) / pods;
    console.log(
      `PodCountIndex: ${perPod.toFixed(1)} bytes/pod measured (heap + array buffers), ${(index.byteSize / pods).toFixed(1)} estimated, ` +
        `${pods} pods on ${index.nodeCount} nodes`,
    );
    expect(index.size).toBe(pods);
    expect(index.countOf('node-00042')).toBe(30);
    expect(perPod).toBeLessThanOrEqual(100);
  });
});
