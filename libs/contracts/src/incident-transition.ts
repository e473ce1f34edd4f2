import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';
import type { Incident } from './incidents.js';
import type { NodeSnapshot } from './node-snapshot.js';

/**
 * One incident opening or resolving, as the leading watcher appends it to the
 * cluster's `incident-events` stream in the same fenced step that changes the
 * incident: the notifications' outbox. A transition is in the stream exactly once,
 * whatever the replicas and failovers, so it is notified at most once per sink.
 */
export const IncidentTransitionSchema = z.object({
  cluster: ClusterNameSchema,
  node: z.string().min(1),
  /** The incident's id (stable from open to resolve). */
  incident: z.string().min(1),
  kind: z.enum(['opened', 'resolved']),
  /** What is wrong: `NotReady`, `MemoryPressure`, ... (a condition's type or state). */
  cause: z.string().min(1),
  /** A short human explanation (the condition's reason and message), when the node gave one. */
  detail: z.string().optional(),
  startedAt: z.string(),
  /** Set on `resolved`. */
  endedAt: z.string().optional(),
  flapping: z.boolean().default(false),
  /** The node's labels when the transition happened (sinks select nodes by them; a deleted node has no other record). */
  labels: z.record(z.string(), z.string()).default({}),
});
export type IncidentTransition = z.infer<typeof IncidentTransitionSchema>;
export type IncidentTransitionInput = z.input<typeof IncidentTransitionSchema>;

/** The field of an `incident-events` stream entry that holds the IncidentTransition JSON. */
export const INCIDENT_EVENT_FIELD = 't';

/**
 * The transitions one node change makes of its incidents (`trackIncident`'s
 * `incidents`): an incident that was not open before is `opened`, one that now has
 * an end is `resolved`; an open incident that only gained a condition is neither
 * (one message per incident opening and one per resolving). `node` is the node as
 * the change leaves it (or as it was, when the change deletes it): its labels go
 * with the transition, for the sinks' selectors.
 */
export function incidentTransitions(
  wasOpen: boolean,
  incidents: readonly Incident[],
  node: NodeSnapshot | undefined,
): IncidentTransition[] {
  const labels = node?.labels ?? {};
  const out: IncidentTransition[] = [];
  for (const incident of incidents) {
    const resolved = incident.end !== undefined;
    if (!resolved && wasOpen) continue;
    out.push({
      cluster: incident.cluster,
      node: incident.node,
      incident: incident.id,
      kind: resolved ? 'resolved' : 'opened',
      cause: incident.cause,
      ...(incident.conditions.length > 1
        ? { detail: `also ${incident.conditions.slice(1).join(', ')}` }
        : {}),
      startedAt: incident.start,
      ...(resolved ? { endedAt: incident.end } : {}),
      flapping: incident.flapping,
      labels,
    });
  }
  return out;
}
