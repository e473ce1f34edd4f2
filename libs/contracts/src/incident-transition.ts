import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';

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
  startedAt: z.iso.datetime(),
  /** Set on `resolved`. */
  endedAt: z.iso.datetime().optional(),
  flapping: z.boolean().default(false),
  /** The node's labels when the transition happened (sinks select nodes by them; a deleted node has no other record). */
  labels: z.record(z.string(), z.string()).default({}),
});
export type IncidentTransition = z.infer<typeof IncidentTransitionSchema>;
export type IncidentTransitionInput = z.input<typeof IncidentTransitionSchema>;

/** The field of an `incident-events` stream entry that holds the IncidentTransition JSON. */
export const INCIDENT_EVENT_FIELD = 't';
