import { quantityToBaseUnits } from './quantity.js';

/**
 * A pod's effective requests and limits per resource, in base units (see
 * `quantityToBaseUnits`), zero entries left out: what the pod takes of its node's
 * allocatable while it is bound and not terminated.
 */
export interface PodResourceTotals {
  requests: Record<string, number>;
  limits: Record<string, number>;
}

type Amounts = Map<string, number>;

interface RawResources {
  requests?: Record<string, unknown> | null;
  limits?: Record<string, unknown> | null;
}
interface RawContainer {
  name?: unknown;
  restartPolicy?: unknown;
  resources?: RawResources | null;
}
interface RawContainerStatus {
  name?: unknown;
  allocatedResources?: Record<string, unknown> | null;
  resources?: RawResources | null;
}
interface RawPod {
  spec?: {
    containers?: RawContainer[] | null;
    initContainers?: RawContainer[] | null;
    overhead?: Record<string, unknown> | null;
    resources?: RawResources | null;
  } | null;
  status?: {
    containerStatuses?: RawContainerStatus[] | null;
    initContainerStatuses?: RawContainerStatus[] | null;
    conditions?: { type?: unknown; reason?: unknown }[] | null;
  } | null;
}

/** Reads a ResourceList; entries that are not valid quantities are skipped (the API server never stores one). */
function amounts(list: Record<string, unknown> | null | undefined): Amounts | undefined {
  if (!list || typeof list !== 'object') return undefined;
  const out: Amounts = new Map();
  for (const [name, raw] of Object.entries(list)) {
    const value =
      typeof raw === 'string' ? quantityToBaseUnits(name, raw) : typeof raw === 'number' ? raw : undefined;
    if (value !== undefined) out.set(name, value);
  }
  return out;
}

function add(into: Amounts, from: Amounts | undefined): void {
  if (from) for (const [name, v] of from) into.set(name, (into.get(name) ?? 0) + v);
}

function maxInto(into: Amounts, from: Amounts | undefined): void {
  if (from)
    for (const [name, v] of from) if (!into.has(name) || v > (into.get(name) as number)) into.set(name, v);
}

function max(...lists: (Amounts | undefined)[]): Amounts {
  const out: Amounts = new Map();
  for (const list of lists) maxInto(out, list);
  return out;
}

/** Pod-level `spec.resources` applies to these only (PodLevelResources). */
function podLevelResource(name: string): boolean {
  return name === 'cpu' || name === 'memory' || name.startsWith('hugepages-');
}

/** How one container's amounts are read: from its spec, or from what the kubelet allocated or actuated. */
type ContainerAmounts = (
  container: RawContainer,
  status: RawContainerStatus | undefined,
) => Amounts | undefined;

/**
 * The sum of app containers and sidecars (restartable init containers), against
 * the largest of each ordinary init container plus the sidecars started before it:
 * Kubernetes' sidecar formula (KEP-753), per resource.
 */
function aggregate(pod: RawPod, read: ContainerAmounts, statusOf: StatusOf): Amounts {
  const result: Amounts = new Map();
  for (const c of pod.spec?.containers ?? []) add(result, read(c, statusOf(c)));
  const sidecars: Amounts = new Map();
  const initPeak: Amounts = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const own = read(c, statusOf(c));
    if (c.restartPolicy === 'Always') {
      add(result, own);
      add(sidecars, own);
      maxInto(initPeak, sidecars);
    } else {
      const during: Amounts = new Map(sidecars);
      add(during, own);
      maxInto(initPeak, during);
    }
  }
  maxInto(result, initPeak);
  return result;
}

/** A container's status by name. */
type StatusOf = (container: RawContainer) => RawContainerStatus | undefined;

/**
 * The container statuses by name, or undefined when none reports resources
 * (`allocatedResources` or `resources`): then what the kubelet allocated and actuated
 * can only be the spec, and the spec alone is summed (most pods: one pass, not five).
 */
function resourceStatuses(pod: RawPod): StatusOf | undefined {
  let reported = false;
  const statuses = new Map<string, RawContainerStatus>();
  for (const list of [pod.status?.containerStatuses, pod.status?.initContainerStatuses]) {
    for (const s of list ?? []) {
      if (typeof s?.name !== 'string' || statuses.has(s.name)) continue;
      statuses.set(s.name, s);
      if (s.allocatedResources || s.resources) reported = true;
    }
  }
  if (!reported) return undefined;
  return (c) => (typeof c.name === 'string' ? statuses.get(c.name) : undefined);
}

const noStatus: StatusOf = () => undefined;

/** Container requests as the API server defaults them: a resource with a limit and no request requests its limit. */
function specRequests(c: RawContainer): Amounts | undefined {
  const requests = amounts(c.resources?.requests);
  const limits = amounts(c.resources?.limits);
  if (!limits) return requests;
  const out: Amounts = new Map(requests);
  for (const [name, v] of limits) if (!out.has(name)) out.set(name, v);
  return out;
}

function toRecord(list: Amounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of [...list.keys()].sort()) {
    const v = list.get(name) as number;
    if (v !== 0) out[name] = v;
  }
  return out;
}

/**
 * The pod's effective requests and limits, computed as the scheduler does
 * (component-helpers' `PodRequests` / `PodLimits` with in-place resize on):
 * - containers and sidecars summed, against the peak of the init phase (see
 *   {@link aggregate});
 * - in-place resize: per resource the largest of the spec, what the kubelet
 *   allocated (`containerStatuses[].allocatedResources`) and what it actuated
 *   (`containerStatuses[].resources`); only the last two while the resize is
 *   `Infeasible` (the spec will not be applied);
 * - pod-level `spec.resources` replaces the sum for cpu, memory and hugepages;
 * - `spec.overhead` is added to requests, and to limits that are set.
 * Takes a raw Pod (JSON as the API serves it); odd input gives empty totals.
 */
export function podResourceTotals(raw: unknown): PodResourceTotals {
  const pod = (raw ?? {}) as RawPod;
  const infeasible = (pod.status?.conditions ?? []).some(
    (c) => c?.type === 'PodResizePending' && c.reason === 'Infeasible',
  );
  const fallback = <T>(spec: T): T | undefined => (infeasible ? undefined : spec);
  const statusOf = resourceStatuses(pod);

  let requests: Amounts;
  let limits: Amounts;
  if (!statusOf) {
    // Nothing reported: allocated and actuated fall back to the spec (or, while a resize
    // is infeasible, to nothing).
    requests = infeasible ? new Map() : aggregate(pod, (c) => specRequests(c), noStatus);
    limits = infeasible ? new Map() : aggregate(pod, (c) => amounts(c.resources?.limits), noStatus);
  } else {
    const specReqs = aggregate(pod, (c) => specRequests(c), statusOf);
    const allocatedReqs = aggregate(
      pod,
      (c, s) => amounts(s?.allocatedResources) ?? fallback(specRequests(c)),
      statusOf,
    );
    const actuatedReqs = aggregate(
      pod,
      (c, s) =>
        amounts(s?.resources?.requests) ?? amounts(s?.allocatedResources) ?? fallback(specRequests(c)),
      statusOf,
    );
    requests = infeasible ? max(actuatedReqs, allocatedReqs) : max(specReqs, actuatedReqs, allocatedReqs);
    const specLims = aggregate(pod, (c) => amounts(c.resources?.limits), statusOf);
    const actuatedLims = aggregate(
      pod,
      (c, s) => amounts(s?.resources?.limits) ?? fallback(amounts(c.resources?.limits)),
      statusOf,
    );
    limits = infeasible ? actuatedLims : max(specLims, actuatedLims);
  }

  const podRequests = amounts(pod.spec?.resources?.requests);
  const podLimits = amounts(pod.spec?.resources?.limits);
  const podLevelSet = (list: Amounts | undefined) => [...(list?.keys() ?? [])].some(podLevelResource);
  if (podLevelSet(podRequests)) {
    for (const [name, v] of podRequests as Amounts) if (podLevelResource(name)) requests.set(name, v);
  }
  if (podLevelSet(podRequests) || podLevelSet(podLimits)) {
    for (const [name, v] of podLimits ?? []) if (podLevelResource(name)) limits.set(name, v);
  }

  const overhead = amounts(pod.spec?.overhead);
  if (overhead) {
    add(requests, overhead);
    for (const [name, v] of overhead) {
      const limit = limits.get(name);
      if (limit !== undefined && limit !== 0) limits.set(name, limit + v);
    }
  }
  return { requests: toRecord(requests), limits: toRecord(limits) };
}
