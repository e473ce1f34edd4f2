import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_ALLOCATION, isEmptyAllocation, podResourceTotals, type NodeAllocation } from '@knm/contracts';
import { PodCountIndex } from './pod-count-index.js';
import { projectPod } from './pod-record.js';

/** A deterministic pseudo-random source (a failure names its seed). */
function random(seed: number) {
  let s = seed;
  const int = (n: number): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
  return { int, pick: <T>(items: readonly T[]): T => items[int(items.length)] as T };
}

type Rand = ReturnType<typeof random>;

/** The resources a container of a random workload declares (some declare nothing). */
function containerResources(rand: Rand): Record<string, Record<string, string>> {
  const cpu = rand.pick(['50m', '100m', '250m', '0.5', '1', '1500m']);
  const memory = rand.pick(['64Mi', '128Mi', '256Mi', '1Gi', '1.5Gi', '300M']);
  switch (rand.int(6)) {
    case 0:
      return {};
    case 1:
      return { requests: { cpu, memory } };
    case 2:
      return { limits: { cpu, memory } }; // requests default to the limits
    case 3:
      return { requests: { cpu }, limits: { memory, 'ephemeral-storage': '2Gi' } };
    case 4:
      return { requests: { cpu, memory, 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } };
    default:
      return {
        requests: { cpu, memory, 'hugepages-2Mi': '128Mi' },
        limits: { cpu, memory, 'hugepages-2Mi': '128Mi' },
      };
  }
}

/** A raw Pod as the API serves it: app containers, maybe init containers and sidecars, overhead, a resize. */
function rawPod(rand: Rand, uid: string, nodeName: string | undefined, phase: string): unknown {
  const containers = Array.from({ length: 1 + rand.int(3) }, (_, i) => ({
    name: `c${i}`,
    resources: containerResources(rand),
  }));
  const initContainers =
    rand.int(3) === 0
      ? [
          { name: 'init', resources: containerResources(rand) },
          { name: 'proxy', restartPolicy: 'Always', resources: containerResources(rand) },
        ]
      : [];
  const spec: Record<string, unknown> = { containers, initContainers };
  if (nodeName) spec['nodeName'] = nodeName;
  if (rand.int(5) === 0) spec['overhead'] = { cpu: '10m', memory: '20Mi' };
  const status: Record<string, unknown> = { phase };
  if (rand.int(4) === 0) {
    // An in-place resize the kubelet has allocated: the pod's current resources.
    status['containerStatuses'] = [
      {
        name: 'c0',
        allocatedResources: { cpu: rand.pick(['200m', '2']), memory: rand.pick(['512Mi', '2Gi']) },
      },
    ];
  }
  return { metadata: { uid, name: uid.slice(0, 8), namespace: 'default' }, spec, status };
}

/** The allocation per node recounted from scratch: the sums of podResourceTotals of the pods that count. */
function recount(pods: Iterable<unknown>): Record<string, NodeAllocation> {
  const out: Record<string, { requests: Record<string, number>; limits: Record<string, number> }> = {};
  for (const raw of pods) {
    const record = projectPod(raw);
    if (!record.nodeName || record.phase === 'Succeeded' || record.phase === 'Failed') continue;
    const totals = podResourceTotals(raw);
    const node = (out[record.nodeName] ??= { requests: {}, limits: {} });
    for (const [name, v] of Object.entries(totals.requests))
      node.requests[name] = (node.requests[name] ?? 0) + v;
    for (const [name, v] of Object.entries(totals.limits)) node.limits[name] = (node.limits[name] ?? 0) + v;
  }
  const sorted: Record<string, NodeAllocation> = {};
  for (const [node, a] of Object.entries(out)) {
    const requests = Object.fromEntries(
      Object.entries(a.requests)
        .filter(([, v]) => v !== 0)
        .sort(),
    );
    const limits = Object.fromEntries(
      Object.entries(a.limits)
        .filter(([, v]) => v !== 0)
        .sort(),
    );
    if (Object.keys(requests).length + Object.keys(limits).length > 0) sorted[node] = { requests, limits };
  }
  return sorted;
}

describe('PodCountIndex allocation', () => {
  it('keeps requests and limits per node through create, bind, resize, completion, migration and delete', () => {
    const index = new PodCountIndex();
    const uid = randomUUID();
    const pod = (nodeName: string | undefined, phase: string, cpu: string, resized?: string) =>
      projectPod({
        metadata: { uid },
        spec: {
          nodeName,
          containers: [
            { name: 'app', resources: { requests: { cpu, memory: '1Gi' }, limits: { memory: '2Gi' } } },
          ],
          initContainers: [
            { name: 'mesh', restartPolicy: 'Always', resources: { requests: { cpu: '100m' } } },
          ],
        },
        status: {
          phase,
          containerStatuses: resized ? [{ name: 'app', allocatedResources: { cpu: resized } }] : [],
        },
      });
    index.apply('ADDED', pod(undefined, 'Pending', '500m'));
    expect(index.allocations()).toEqual({});
    index.apply('MODIFIED', pod('n1', 'Pending', '500m'));
    const n1 = { requests: { cpu: 600, memory: 2 ** 30 }, limits: { memory: 2 ** 31 } };
    expect(index.allocationOf('n1')).toEqual(n1);
    expect(index.takeAllocation()).toEqual({ n1 });
    // Status-only update: nothing pending.
    index.apply('MODIFIED', pod('n1', 'Running', '500m'));
    expect(index.takeAllocation()).toEqual({});
    // In-place resize up: the allocated 2 CPUs count (the larger of spec and allocated).
    index.apply('MODIFIED', pod('n1', 'Running', '500m', '2'));
    expect(index.takeAllocation()).toEqual({ n1: { ...n1, requests: { cpu: 2100, memory: 2 ** 30 } } });
    expect(index.takeDeltas()).toEqual({ n1: 1 });
    // Migration (a re-created pod under the same uid, as the tests' fakes do).
    index.apply('MODIFIED', pod('n2', 'Running', '500m'));
    expect(index.takeAllocation()).toEqual({ n1: EMPTY_ALLOCATION, n2: n1 });
    index.apply('MODIFIED', pod('n2', 'Succeeded', '500m'));
    expect(index.takeAllocation()).toEqual({ n2: EMPTY_ALLOCATION });
    expect(index.allocations()).toEqual({});
    expect(index.profileCount).toBe(0);
    index.apply('MODIFIED', pod('n2', 'Running', '250m'));
    index.apply('DELETED', pod('n2', 'Running', '250m'));
    expect(index.takeAllocation()).toEqual({ n2: EMPTY_ALLOCATION });
    expect(index.profileCount).toBe(0);
  });

  it('pods of one workload share one profile, freed when the last goes', () => {
    const index = new PodCountIndex();
    const uids = Array.from({ length: 50 }, () => randomUUID());
    const web = (uid: string, node: string) =>
      projectPod({
        metadata: { uid },
        spec: { nodeName: node, containers: [{ name: 'a', resources: { requests: { cpu: '250m' } } }] },
        status: { phase: 'Running' },
      });
    uids.forEach((uid, i) => index.apply('ADDED', web(uid, `n${i % 5}`)));
    expect(index.profileCount).toBe(1);
    expect(index.allocationOf('n0')).toEqual({ requests: { cpu: 2500 }, limits: {} });
    for (const uid of uids) index.apply('DELETED', web(uid, 'n0'));
    expect(index.profileCount).toBe(0);
    expect(index.nodeCount).toBe(0);
  });

  it.each([1, 2, 3, 4])(
    'matches a full recount after 10,000 random events with relists (seed %i)',
    (seed) => {
      const rand = random(seed);
      const index = new PodCountIndex();
      const truth = new Map<string, unknown>();
      const uids = Array.from({ length: 800 }, () => randomUUID());
      const nodes = ['a', 'b', 'c', 'd', 'e', 'f'];
      const phases = ['Pending', 'Running', 'Running', 'Running', 'Succeeded', 'Failed'];
      for (let i = 0; i < 10_000; i++) {
        const uid = rand.pick(uids);
        if (rand.int(6) === 0) {
          truth.delete(uid);
          index.apply('DELETED', projectPod({ metadata: { uid } }));
        } else {
          const raw = rawPod(rand, uid, rand.int(8) === 0 ? undefined : rand.pick(nodes), rand.pick(phases));
          index.apply(truth.has(uid) ? 'MODIFIED' : 'ADDED', projectPod(raw));
          truth.set(uid, raw);
        }
        if (i % 2_500 === 2_499) {
          // A relist that also missed some deletes and adds while disconnected.
          for (let k = 0; k < 20; k++) truth.delete(rand.pick(uids));
          index.replace([...truth.values()].map(projectPod));
        }
        if (i % 997 === 0) expect(index.allocations()).toEqual(recount(truth.values()));
      }
      expect(index.allocations()).toEqual(recount(truth.values()));
    },
  );

  it('the pending changes, written after each take, rebuild exactly the absolute allocation', () => {
    const rand = random(99);
    const index = new PodCountIndex();
    const truth = new Map<string, unknown>();
    const uids = Array.from({ length: 300 }, () => randomUUID());
    const written: Record<string, NodeAllocation> = {};
    const flush = (): void => {
      index.takeDeltas();
      for (const [node, allocation] of Object.entries(index.takeAllocation())) {
        if (isEmptyAllocation(allocation)) delete written[node];
        else written[node] = allocation;
      }
    };
    for (let i = 0; i < 5_000; i++) {
      const uid = rand.pick(uids);
      if (rand.int(5) === 0) {
        truth.delete(uid);
        index.apply('DELETED', projectPod({ metadata: { uid } }));
      } else {
        const raw = rawPod(
          rand,
          uid,
          rand.pick(['a', 'b', 'c', undefined]),
          rand.pick(['Running', 'Failed']),
        );
        index.apply('MODIFIED', projectPod(raw));
        truth.set(uid, raw);
      }
      if (i === 3_000) index.replace([...truth.values()].map(projectPod));
      if (rand.int(40) === 0) flush();
    }
    flush();
    expect(written).toEqual(recount(truth.values()));
    expect(index.hasPendingDeltas).toBe(false);
  });
});
