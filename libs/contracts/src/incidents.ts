import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';

/**
 * A period during which a node was unhealthy: its Ready condition present and not
 * `True`, or one of `MemoryPressure`, `DiskPressure`, `PIDPressure`,
 * `NetworkUnavailable` `True` (`UNHEALTHY_WHEN`). Opened and closed by the leading
 * watcher in the same fenced step as the node change that caused it.
 */
export const IncidentSchema = z.object({
  /** `<node>:<start in ms>`: unique per node and start. */
  id: z.string(),
  cluster: ClusterNameSchema,
  node: z.string(),
  /** The node's pool (`nodePool`), `none` without a pool label. */
  pool: z.string(),
  /** RFC 3339: the transition time of the condition that opened it (else when it was observed). */
  start: z.string(),
  /** RFC 3339: when the node was healthy again or removed; absent while open. */
  end: z.string().optional(),
  /** `end - start`, ms; absent while open. */
  durationMs: z.number().int().nonnegative().optional(),
  /** What opened it: `<condition>=<status>` and the condition's reason, e.g. `Ready=False (KubeletNotReady)`. */
  cause: z.string(),
  /** Every unhealthy condition type seen while it was open, in the order they appeared. */
  conditions: z.array(z.string()),
  /** The node's health changed at least `KNM_FLAP_TRANSITIONS` times within `KNM_FLAP_WINDOW_SECONDS` up to this incident. */
  flapping: z.boolean(),
  /** Why it closed. */
  endReason: z.enum(['recovered', 'node_removed']).optional(),
});
export type Incident = z.infer<typeof IncidentSchema>;

/**
 * Per node, what incident tracking needs between two changes (the
 * `incidentNodes` hash): the open incident and the times (ms) of the node's recent
 * health changes, kept within the flap window.
 */
export const IncidentTrackerSchema = z.object({
  open: IncidentSchema.optional(),
  flips: z.array(z.number().int()),
});
export type IncidentTracker = z.infer<typeof IncidentTrackerSchema>;

/** When an incident counts as flapping: `transitions` health changes within `windowMs`. */
export interface FlapRule {
  readonly transitions: number;
  readonly windowMs: number;
}

export const DEFAULT_FLAP_RULE: FlapRule = { transitions: 4, windowMs: 600_000 };

const boolParam = (name: string) =>
  z.enum(['true', 'false'], { error: `${name} must be "true" or "false"` }).transform((v) => v === 'true');

const timeParam = (name: string) =>
  z.string().refine((v) => /^\d{4}-\d\d-\d\dT/.test(v) && Number.isFinite(Date.parse(v)), {
    error: `${name} must be an RFC 3339 time`,
  });

/**
 * Query of `GET /api/v1/incidents`: `cluster` (default: every cluster the token
 * covers), `open` (`true`: only open ones, `false`: only closed ones), `since` (only
 * incidents still open at or ending after this time), `limit` (1..1000, default 500;
 * newest start first).
 */
export const IncidentsQuerySchema = z.strictObject({
  cluster: ClusterNameSchema.optional(),
  open: boolParam('open').optional(),
  since: timeParam('since').optional(),
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be an integer')
    .min(1, 'limit must be at least 1')
    .max(1_000, 'limit must be at most 1000')
    .default(500),
});
export type IncidentsQuery = z.infer<typeof IncidentsQuerySchema>;

/** `GET /api/v1/incidents`: newest start first; `truncated` when more matched than `limit`. */
export const IncidentsResponseSchema = z.object({
  items: z.array(IncidentSchema),
  truncated: z.boolean(),
});
export type IncidentsResponse = z.infer<typeof IncidentsResponseSchema>;

/**
 * Query of `GET /api/v1/incidents/mttr`: closed incidents that ended within
 * [`since`, `until`] (default: the last 7 days up to now), of `cluster` (default:
 * every cluster the token covers).
 */
export const MttrQuerySchema = z.strictObject({
  cluster: ClusterNameSchema.optional(),
  since: timeParam('since').optional(),
  until: timeParam('until').optional(),
});
export type MttrQuery = z.infer<typeof MttrQuerySchema>;

/** Mean time to recovery of a set of closed incidents. */
export const MttrFigureSchema = z.object({
  incidents: z.number().int().nonnegative(),
  /** Mean `durationMs`; absent when no incident closed in the period. */
  mttrMs: z.number().nonnegative().optional(),
});
export type MttrFigure = z.infer<typeof MttrFigureSchema>;

export const MttrResponseSchema = z.object({
  since: z.string(),
  until: z.string(),
  clusters: z.array(
    MttrFigureSchema.extend({
      cluster: ClusterNameSchema,
      pools: z.array(MttrFigureSchema.extend({ pool: z.string() })),
    }),
  ),
});
export type MttrResponse = z.infer<typeof MttrResponseSchema>;
