import {
  isFinalOperationState,
  type OperationAction,
  type Operation,
  type OperationProgress,
} from '@knm/contracts';
import { isNewer } from './operation-tracker.js';

/**
 * One cluster's share of a fleet operation: `starting` until its cluster answered
 * the create, then the operation it started (its latest known copy) or why it
 * refused (403, 409 busy nodes, ...).
 */
export type FleetOperationPart =
  | { cluster: string; nodes: readonly string[]; status: 'starting' }
  | { cluster: string; nodes: readonly string[]; status: 'started'; operation: Operation }
  | { cluster: string; nodes: readonly string[]; status: 'refused'; reason: string };

/**
 * An operation on nodes of several clusters: one operation per cluster underneath
 * (the gateway's unit of locking, authorisation and progress), shown as one entry.
 * Exists only in the tab that started it: its id is local.
 */
export interface FleetOperation {
  id: string;
  action: OperationAction;
  createdAt: string;
  /** Cancel was pressed: every part not yet final is (or, once started, will be) cancelled. */
  cancelRequested: boolean;
  /** One per cluster, in cluster order. */
  parts: readonly FleetOperationPart[];
}

/** Where a fleet operation is: `running` until every cluster's part is final. */
export type FleetOperationState = 'running' | 'succeeded' | 'failed' | 'partial' | 'cancelled';

/** One cluster's row of the combined view. */
export interface FleetClusterRow {
  cluster: string;
  /** `starting` and `refused` are the fleet's own; the rest the cluster operation's state. */
  state: 'starting' | 'refused' | Operation['state'];
  operationId: string | undefined;
  progress: OperationProgress;
  /** Why the cluster refused the operation, or why its operation failed as a whole. */
  error: string | undefined;
  /** `node: error` of each node that failed. */
  failures: string[];
}

/** The combined view of a fleet operation. */
export interface FleetOperationSummary {
  state: FleetOperationState;
  /** A cancel was asked for and some part is not final yet. */
  cancelling: boolean;
  /** Clusters whose operation completed. */
  succeeded: number;
  /** Clusters that refused the operation, or whose operation failed or partly failed. */
  failed: number;
  /** Clusters whose operation was cancelled. */
  cancelled: number;
  /** Clusters not final yet (starting, queued, running). */
  running: number;
  /** Nodes final over nodes in the operation, over every cluster (a refused cluster's nodes count as done). */
  progress: OperationProgress;
  clusters: FleetClusterRow[];
}

/** A new fleet operation, every cluster's part `starting`. */
export function newFleetOperation(
  id: string,
  action: OperationAction,
  groups: readonly { cluster: string; nodes: readonly string[] }[],
  createdAt: string,
): FleetOperation {
  return {
    id,
    action,
    createdAt,
    cancelRequested: false,
    parts: groups.map((g) => ({ cluster: g.cluster, nodes: g.nodes, status: 'starting' })),
  };
}

function replacePart(
  fleet: FleetOperation,
  cluster: string,
  next: (part: FleetOperationPart) => FleetOperationPart | undefined,
): FleetOperation {
  let changed = false;
  const parts = fleet.parts.map((part) => {
    if (part.cluster !== cluster) return part;
    const replaced = next(part);
    if (!replaced) return part;
    changed = true;
    return replaced;
  });
  return changed ? { ...fleet, parts } : fleet;
}

/** The fleet operation once `cluster` started its operation (the create's answer). */
export function withStarted(fleet: FleetOperation, cluster: string, operation: Operation): FleetOperation {
  return replacePart(fleet, cluster, (part) =>
    part.status === 'started' && !isNewer(part.operation, operation)
      ? undefined
      : { cluster, nodes: part.nodes, status: 'started', operation },
  );
}

/** The fleet operation once `cluster` refused its operation. */
export function withRefused(fleet: FleetOperation, cluster: string, reason: string): FleetOperation {
  return replacePart(fleet, cluster, (part) =>
    part.status === 'starting' ? { cluster, nodes: part.nodes, status: 'refused', reason } : undefined,
  );
}

/**
 * The fleet operation with a newer copy of one of its clusters' operations (an
 * `operation_progress` event or a poll); unchanged when `operation` is not one of
 * them or is older than the copy held.
 */
export function withProgress(fleet: FleetOperation, operation: Operation): FleetOperation {
  const part = fleet.parts.find((p) => p.status === 'started' && p.operation.id === operation.id);
  return part ? withStarted(fleet, part.cluster, operation) : fleet;
}

/** The ids of the cluster operations a fleet operation started. */
export function memberIds(fleet: FleetOperation): string[] {
  return fleet.parts.flatMap((p) => (p.status === 'started' ? [p.operation.id] : []));
}

/** Whether every cluster's part reached a state it never leaves. */
export function isFleetOperationFinal(fleet: FleetOperation): boolean {
  return fleet.parts.every(
    (p) => p.status === 'refused' || (p.status === 'started' && isFinalOperationState(p.operation.state)),
  );
}

function rowOf(part: FleetOperationPart): FleetClusterRow {
  const total = part.nodes.length;
  if (part.status === 'starting') {
    return {
      cluster: part.cluster,
      state: 'starting',
      operationId: undefined,
      progress: { done: 0, total },
      error: undefined,
      failures: [],
    };
  }
  if (part.status === 'refused') {
    return {
      cluster: part.cluster,
      state: 'refused',
      operationId: undefined,
      progress: { done: total, total },
      error: part.reason,
      failures: [],
    };
  }
  const op = part.operation;
  return {
    cluster: part.cluster,
    state: op.state,
    operationId: op.id,
    progress: op.progress,
    error: op.error,
    failures: op.results
      .filter((r) => r.status === 'failed')
      .map((r) => `${r.node}: ${r.error ?? r.message ?? r.status}`),
  };
}

/**
 * The combined view: one row per cluster, how many clusters succeeded, failed,
 * were cancelled or still run, and the overall state: `running` while any part
 * is not final; then `succeeded` when every cluster completed, `failed` when none
 * did, `cancelled` when a cancel stopped some and none failed, else `partial`.
 */
export function summarizeFleetOperation(fleet: FleetOperation): FleetOperationSummary {
  const clusters = fleet.parts.map(rowOf);
  let succeeded = 0;
  let failed = 0;
  let cancelled = 0;
  let running = 0;
  for (const row of clusters) {
    if (row.state === 'completed') succeeded += 1;
    else if (row.state === 'cancelled') cancelled += 1;
    else if (row.state === 'refused' || row.state === 'failed' || row.state === 'partial') failed += 1;
    else running += 1;
  }
  const progress = clusters.reduce(
    (sum, row) => ({ done: sum.done + row.progress.done, total: sum.total + row.progress.total }),
    { done: 0, total: 0 },
  );
  let state: FleetOperationState;
  if (running > 0) state = 'running';
  else if (succeeded === clusters.length) state = 'succeeded';
  else if (succeeded === 0 && cancelled === 0) state = 'failed';
  else if (cancelled > 0 && failed === 0) state = 'cancelled';
  else state = 'partial';
  return {
    state,
    cancelling: fleet.cancelRequested && running > 0,
    succeeded,
    failed,
    cancelled,
    running,
    progress,
    clusters,
  };
}
