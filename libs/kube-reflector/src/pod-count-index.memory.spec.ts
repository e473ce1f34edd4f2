import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { PodResourceTotals } from '@knm/contracts';
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
  it('holds 150,000 pods without resources on 5,000 nodes in at most 100 bytes of heap per pod', () => {
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

  it('holds 150,000 pods with their requests and limits (3,000 workloads, 5% resized) in at most 100 bytes per pod', () => {
    const pods = 150_000;
    const before = heapUsed();
    const index = new PodCountIndex();
    for (let i = 0; i < pods; i++) {
      const workload = i % 3_000;
      // Every 20th pod was resized in place: a profile of its own.
      const cpu = i % 20 === 0 ? 100 + i : 50 * (1 + (workload % 40));
      const memory = 2 ** 20 * 64 * (1 + (workload % 32));
      // Fresh objects per event, as projectPod builds them from each parsed pod.
      const resources: PodResourceTotals =
        workload % 10 === 0
          ? {
              requests: { cpu, memory, 'nvidia.com/gpu': 1 },
              limits: { memory: memory * 2, 'nvidia.com/gpu': 1 },
            }
          : { requests: { cpu, memory }, limits: { cpu: cpu * 2, memory: memory * 2 } };
      index.apply('ADDED', {
        uid: randomUUID(),
        nodeName: `node-${String(i % 5_000).padStart(5, '0')}`,
        phase: 'Running',
        resources,
      });
    }
    index.takeDeltas();
    index.takeAllocation();
    const after = heapUsed();
    const perPod = (after - before) / pods;
    console.log(
      `PodCountIndex with allocation: ${perPod.toFixed(1)} bytes/pod measured (heap + array buffers), ` +
        `${(index.byteSize / pods).toFixed(1)} estimated, ${pods} pods on ${index.nodeCount} nodes, ${index.profileCount} profiles`,
    );
    expect(index.size).toBe(pods);
    expect(index.allocationOf('node-00042').requests['cpu']).toBeGreaterThan(0);
    expect(perPod).toBeLessThanOrEqual(100);
  });
});
