import type { HistoryRecord, HistoryTimeSource } from './history.js';
import {
  ANNOTATION_CORDONED_BY,
  ANNOTATION_CORDON_REASON,
  type NodeCondition,
  type NodeSnapshot,
  type Taint,
} from './node-snapshot.js';

/**
 * Taints Kubernetes' node lifecycle controller adds and removes itself to mirror a
 * condition or a cordon (TaintNodesByCondition, taint-based evictions). Their entry
 * would repeat the condition's or the cordon's, on every flap, so they are left out
 * of the history; every other taint counts.
 */
export const MIRROR_TAINT_KEYS: ReadonlySet<string> = new Set([
  'node.kubernetes.io/not-ready',
  'node.kubernetes.io/unreachable',
  'node.kubernetes.io/unschedulable',
  'node.kubernetes.io/memory-pressure',
  'node.kubernetes.io/disk-pressure',
  'node.kubernetes.io/pid-pressure',
  'node.kubernetes.io/network-unavailable',
]);

/**
 * The history entries of one node change: what differs between `prev` (what Redis
 * held; undefined = the node is new) and `next` (undefined = the node is gone), in
 * the order conditions, cordon, taints removed, taints added (not the
 * {@link MIRROR_TAINT_KEYS}). Only status changes of
 * a condition count (a new reason or message with the same status is not a
 * transition). `observedAt` (RFC 3339) stamps entries whose object carries no time of
 * its own that moved with the change. Pure: the same pair always gives the same
 * entries, which is what lets a new leader's reconcile write exactly what was missed.
 */
export function deriveHistory(
  prev: NodeSnapshot | undefined,
  next: NodeSnapshot | undefined,
  observedAt: string,
): HistoryRecord[] {
  const observed = { at: observedAt, timeSource: 'observed' as const };
  if (!prev && !next) return [];
  if (!prev) return [{ kind: 'node_added', ...observed }];
  if (!next) return [{ kind: 'node_removed', ...observed }];
  return [
    ...conditionEntries(prev.conditions, next.conditions, observedAt),
    ...cordonEntries(prev, next, observedAt),
    ...taintEntries(prev.taints, next.taints, observedAt),
  ];
}

function conditionEntries(
  prev: readonly NodeCondition[],
  next: readonly NodeCondition[],
  observedAt: string,
): HistoryRecord[] {
  const before = new Map(prev.map((c) => [c.type, c]));
  const after = new Set(next.map((c) => c.type));
  const out: HistoryRecord[] = [];
  for (const c of next) {
    const old = before.get(c.type);
    if (old && old.status === c.status) continue;
    const moved = c.lastTransitionTime !== undefined && c.lastTransitionTime !== old?.lastTransitionTime;
    const entry: HistoryRecord = {
      kind: 'condition',
      ...stamp(moved ? c.lastTransitionTime : undefined, observedAt),
      condition: c.type,
      status: c.status,
    };
    if (old) entry.previous = old.status;
    if (c.reason) entry.reason = c.reason;
    if (c.message) entry.message = c.message;
    out.push(entry);
  }
  for (const c of prev) {
    if (after.has(c.type)) continue;
    out.push({
      kind: 'condition',
      at: observedAt,
      timeSource: 'observed',
      condition: c.type,
      status: 'Removed',
      previous: c.status,
    });
  }
  return out;
}

function cordonEntries(prev: NodeSnapshot, next: NodeSnapshot, observedAt: string): HistoryRecord[] {
  if (prev.unschedulable === next.unschedulable) return [];
  if (!next.unschedulable) return [{ kind: 'uncordon', at: observedAt, timeSource: 'observed' }];
  const entry: HistoryRecord = { kind: 'cordon', at: observedAt, timeSource: 'observed' };
  const reason = next.annotations[ANNOTATION_CORDON_REASON];
  const by = next.annotations[ANNOTATION_CORDONED_BY];
  if (reason) entry.reason = reason;
  if (by) entry.by = by;
  return [entry];
}

function taintEntries(prev: readonly Taint[], next: readonly Taint[], observedAt: string): HistoryRecord[] {
  // A taint is who it is by key, value and effect; timeAdded alone moving is bookkeeping.
  const key = (t: Taint) => `${t.key}\u0000${t.value ?? ''}\u0000${t.effect}`;
  const before = new Set(prev.map(key));
  const after = new Set(next.map(key));
  const out: HistoryRecord[] = [];
  for (const t of prev) {
    if (MIRROR_TAINT_KEYS.has(t.key)) continue;
    if (!after.has(key(t)))
      out.push({ kind: 'taint_removed', at: observedAt, timeSource: 'observed', taint: t });
  }
  for (const t of next) {
    if (MIRROR_TAINT_KEYS.has(t.key)) continue;
    if (!before.has(key(t))) out.push({ kind: 'taint_added', ...stamp(t.timeAdded, observedAt), taint: t });
  }
  return out;
}

/** The object's own time when it has a valid one, else the observation time. */
function stamp(own: string | undefined, observedAt: string): { at: string; timeSource: HistoryTimeSource } {
  if (own !== undefined && Number.isFinite(Date.parse(own))) return { at: own, timeSource: 'transition' };
  return { at: observedAt, timeSource: 'observed' };
}
