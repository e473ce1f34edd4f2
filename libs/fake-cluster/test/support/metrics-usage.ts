import { quantityToBaseUnits } from '@knm/contracts';

/** The metrics.k8s.io shapes and quantities, as the tests read them. */

export const MI = 2 ** 20;

interface Usage {
  cpu: string;
  memory: string;
}
export interface NodeMetrics {
  kind: string;
  apiVersion: string;
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  usage: Usage;
}
export interface PodMetrics {
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: { name: string; usage: Usage }[];
}
export interface MetricsList<T> {
  kind: string;
  apiVersion: string;
  metadata: Record<string, never>;
  items: T[];
}

/** Exact nanocores of a cpu quantity as metrics-server writes them (`123n`, `45u`, `250m`, `2`). */
export function nanocores(q: string): number {
  const scale: Record<string, number> = { n: 1, u: 1e3, m: 1e6 };
  const suffix = q.at(-1) ?? '';
  return suffix in scale ? Number(q.slice(0, -1)) * (scale[suffix] as number) : Number(q) * 1e9;
}
export const bytes = (q: string) => quantityToBaseUnits('memory', q) as number;
export const podCpu = (p: PodMetrics) => p.containers.reduce((s, c) => s + nanocores(c.usage.cpu), 0);
export const podMemory = (p: PodMetrics) => p.containers.reduce((s, c) => s + bytes(c.usage.memory), 0);
