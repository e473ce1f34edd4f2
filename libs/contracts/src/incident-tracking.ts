import type { ClusterName } from './cluster-name.js';
import { nodePool } from './cluster-resources.js';
import type { FlapRule, Incident, IncidentTracker } from './incidents.js';
import type { NodeCondition, NodeSnapshot } from './node-snapshot.js';

/** Condition type -> the status that makes a node unhealthy (`Ready`: anything but `True`). */
export const UNHEALTHY_WHEN: Readonly<Record<string, (status: NodeCondition['status']) => boolean>> = {
  Ready: (s) => s !== 'True',
  MemoryPressure: (s) => s === 'True',
  DiskPressure: (s) => s === 'True',
  PIDPressure: (s) => s === 'True',
  NetworkUnavailable: (s) => s === 'True',
};

/** The conditions that make a node unhealthy, in the node's order. */
export function unhealthyConditions(node: NodeSnapshot): NodeCondition[] {
  return node.conditions.filter((c) => UNHEALTHY_WHEN[c.type]?.(c.status) === true);
}

/** What one node change does to the node's incidents. */
export interface IncidentStep {
  /** The node's tracker after the change; undefined = nothing left to keep. */
  readonly tracker: IncidentTracker | undefined;
  /** Incidents opened, changed or closed by the change (each its whole new value). */
  readonly incidents: readonly Incident[];
}

/**
 * Opens, updates or closes the node's incident for one change from `prev` (what
 * Redis held) to `next` (undefined = the node was removed). Whether the node WAS
 * unhealthy is read from the tracker (an open incident), so a change that does not
 * move the node's health writes nothing. Each unhealthy period is its own incident
 * (durations stay exact); one that starts or ends when the node's health has changed
 * `rule.transitions` times within `rule.windowMs` is marked `flapping`. The time of a
 * health change is the latest `lastTransitionTime` among the conditions whose
 * status changed; an incident opened without such a change (the node was added
 * unhealthy, or was unhealthy before it was tracked) starts at its unhealthy
 * conditions' latest own transition time; else `observedAt`.
 */
export function trackIncident(input: {
  cluster: ClusterName;
  name: string;
  tracker: IncidentTracker | undefined;
  prev: NodeSnapshot | undefined;
  next: NodeSnapshot | undefined;
  observedAt: string;
  rule: FlapRule;
}): IncidentStep {
  const { tracker, prev, next, rule } = input;
  const open = tracker?.open;
  const bad = next ? unhealthyConditions(next) : [];
  // Opening without a condition that just changed (a node added unhealthy, or one that
  // was unhealthy before it was tracked): it has been unhealthy since its bad
  // conditions' own transition.
  const at = !next
    ? input.observedAt
    : (changeTime(prev, next, undefined) ?? (open ? undefined : latestOwnTime(bad)) ?? input.observedAt);
  const atMs = Date.parse(at);
  const recent = (flips: readonly number[]) => flips.filter((t) => t > atMs - rule.windowMs);

  if (!open && bad.length === 0) {
    const flips = recent(tracker?.flips ?? []);
    return { tracker: flips.length > 0 && next ? { flips } : undefined, incidents: [] };
  }
  if (!open) {
    const flips = [...recent(tracker?.flips ?? []), atMs];
    const first = bad[0] as NodeCondition;
    const incident: Incident = {
      id: `${input.name}:${atMs}`,
      cluster: input.cluster,
      node: input.name,
      pool: nodePool((next as NodeSnapshot).labels),
      start: at,
      cause: `${first.type}=${first.status}${first.reason ? ` (${first.reason})` : ''}`,
      conditions: bad.map((c) => c.type),
      flapping: flips.length >= rule.transitions,
    };
    return { tracker: { open: incident, flips }, incidents: [incident] };
  }
  if (bad.length > 0) {
    const added = bad.map((c) => c.type).filter((t) => !open.conditions.includes(t));
    if (added.length === 0) return { tracker, incidents: [] };
    const incident: Incident = { ...open, conditions: [...open.conditions, ...added] };
    return { tracker: { open: incident, flips: tracker?.flips ?? [] }, incidents: [incident] };
  }
  const flips = [...recent(tracker?.flips ?? []), atMs];
  const endMs = Math.max(atMs, Date.parse(open.start));
  const closed: Incident = {
    ...open,
    end: new Date(endMs).toISOString(),
    durationMs: endMs - Date.parse(open.start),
    flapping: open.flapping || flips.length >= rule.transitions,
    endReason: next ? 'recovered' : 'node_removed',
  };
  if (endMs === atMs) closed.end = at;
  return { tracker: next ? { flips } : undefined, incidents: [closed] };
}

/** The latest own transition time of a condition whose status changed, else `fallback`. */
function changeTime(
  prev: NodeSnapshot | undefined,
  next: NodeSnapshot,
  fallback: string | undefined,
): string | undefined {
  const before = new Map((prev?.conditions ?? []).map((c) => [c.type, c]));
  const changed = next.conditions.filter((c) => {
    const old = before.get(c.type);
    return (
      prev !== undefined &&
      (!old || old.status !== c.status) &&
      c.lastTransitionTime !== old?.lastTransitionTime
    );
  });
  return latestOwnTime(changed) ?? fallback;
}

/** The latest valid `lastTransitionTime` of `conditions`, if any. */
function latestOwnTime(conditions: readonly NodeCondition[]): string | undefined {
  let latest: string | undefined;
  for (const c of conditions) {
    const own = c.lastTransitionTime;
    if (own === undefined || !Number.isFinite(Date.parse(own))) continue;
    if (latest === undefined || Date.parse(own) > Date.parse(latest)) latest = own;
  }
  return latest;
}
