import { expect } from 'vitest';
import type { KubeSim } from '../../src/index.js';
import type { Kubectl } from './kubectl.js';
import { MI, podCpu, podMemory, type MetricsList, type PodMetrics } from './metrics-usage.js';
import { api } from './sim-client.js';

/**
 * Runs `kubectl top node` and `kubectl top pod -A` and checks them against the
 * truth (nodes) and the metrics API (pods). The sim's metrics must not tick while
 * this runs (a manual clock, or a resolution longer than the test).
 */
export async function expectTopAgreesWithMetrics(sim: KubeSim, kubectl: Kubectl): Promise<void> {
  const truth = sim.truth();
  const top = await kubectl.ok(['top', 'node']);
  const lines = top.trim().split('\n');
  expect(lines[0]).toMatch(/^NAME\s+CPU\(cores\)\s+CPU(%|\(%\))\s+MEMORY\(bytes\)\s+MEMORY(%|\(%\))/);
  const rows = lines.slice(1).map((l) => l.split(/\s+/));
  expect(rows.map((r) => r[0]).sort()).toEqual(Object.keys(truth.usage?.nodes ?? {}).sort());
  for (const [name, cpu, , memory] of rows) {
    const usage = truth.usage?.nodes[name as string];
    // kubectl prints MilliValue (rounded up) and whole MiB (rounded down).
    expect(cpu).toBe(`${Math.ceil(usage?.cpu ?? NaN)}m`);
    expect(memory).toBe(`${Math.floor((usage?.memory ?? NaN) / MI)}Mi`);
  }

  const res = await api<MetricsList<PodMetrics>>(sim, '/apis/metrics.k8s.io/v1beta1/pods');
  expect(res.status).toBe(200);
  const pods = res.body;
  const topPods = (await kubectl.ok(['top', 'pod', '-A'])).trim().split('\n');
  expect(topPods[0]).toMatch(/^NAMESPACE\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
  const podRows = new Map(
    topPods.slice(1).map((l) => {
      const [ns, name, cpu, memory] = l.split(/\s+/);
      return [`${ns}/${name}`, { cpu, memory }];
    }),
  );
  expect(pods.items.length).toBeGreaterThan(0);
  expect(podRows.size).toBe(pods.items.length);
  for (const p of pods.items) {
    expect(podRows.get(`${p.metadata.namespace}/${p.metadata.name}`)).toEqual({
      cpu: `${Math.ceil(podCpu(p) / 1e6)}m`,
      memory: `${Math.floor(podMemory(p) / MI)}Mi`,
    });
  }
}
