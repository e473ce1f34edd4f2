import { podResourceTotals, type PodResourceTotals } from '@knm/contracts';
import type { JsonObject, JsonValue, KubeObject } from '../api/kube-object.js';

interface Cached {
  initContainers: JsonValue | undefined;
  overhead: JsonValue | undefined;
  resources: JsonValue | undefined;
  totals: Readonly<PodResourceTotals>;
}

// Keyed by the pod's containers array: every pod of a workload shares it (pod-shapes.ts,
// and replacements copy the spec shallowly), so 150,000 pods are a few hundred computations.
const cache = new WeakMap<object, Cached>();

function isRecord(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether the status can change the totals: resize (allocated or actuated resources, PodResizePending). */
function statusMatters(pod: KubeObject): boolean {
  const status = pod.status ?? {};
  for (const field of ['containerStatuses', 'initContainerStatuses']) {
    const statuses = status[field];
    if (!Array.isArray(statuses)) continue;
    for (const s of statuses)
      if (isRecord(s) && (s['resources'] !== undefined || s['allocatedResources'] !== undefined)) return true;
  }
  const conditions = status['conditions'];
  return Array.isArray(conditions) && conditions.some((c) => isRecord(c) && c['type'] === 'PodResizePending');
}

/**
 * `podResourceTotals(pod)`, computed once per shared container list: when the status
 * says nothing about resizes, the totals depend only on the spec's containers, init
 * containers, overhead and pod-level resources. The result is shared: read it, never
 * change it.
 */
export function podTotals(pod: KubeObject): Readonly<PodResourceTotals> {
  const spec = pod.spec ?? {};
  const containers = spec['containers'];
  if (!Array.isArray(containers) || statusMatters(pod)) return podResourceTotals(pod);
  const hit = cache.get(containers);
  if (
    hit !== undefined &&
    hit.initContainers === spec['initContainers'] &&
    hit.overhead === spec['overhead'] &&
    hit.resources === spec['resources']
  )
    return hit.totals;
  const totals = podResourceTotals({ spec });
  cache.set(containers, {
    initContainers: spec['initContainers'],
    overhead: spec['overhead'],
    resources: spec['resources'],
    totals,
  });
  return totals;
}
