import { z } from 'zod';

/** `POST /_sim/churn`: the churn rate in events per second (0 stops churn). */
export const ChurnRequestSchema = z.object({ rate: z.number().min(0).max(100_000) }).strict();
export type ChurnRequest = z.infer<typeof ChurnRequestSchema>;

/** `POST /_sim/heartbeat`: seconds between two heartbeats of each node (0 stops them). */
export const HeartbeatRequestSchema = z.object({ seconds: z.number().min(0).max(86_400) }).strict();
export type HeartbeatRequest = z.infer<typeof HeartbeatRequestSchema>;

/**
 * `POST /_sim/kubelet`: cut a node's kubelet off from the API server (`reachable: false`:
 * its lease goes stale and the node turns Unknown after the grace period) or reconnect it.
 */
export const KubeletRequestSchema = z.object({ node: z.string().min(1), reachable: z.boolean() }).strict();
export type KubeletRequest = z.infer<typeof KubeletRequestSchema>;

/** `POST /_sim/step`: run this many churn events at once (deterministic; for tests). */
export const StepRequestSchema = z.object({ events: z.number().int().min(1).max(1_000_000) }).strict();
export type StepRequest = z.infer<typeof StepRequestSchema>;

/**
 * `POST /_sim/faults`: any combination of:
 * - `dropWatches: true` end every open watch cleanly (clients re-watch from their last version);
 *   `resetWatches: true` drop them by resetting the connections;
 * - `compact: true` drop the change log and list snapshots (older versions now answer 410);
 * - `errorRate: {fraction, status, seconds?}` answer that fraction of API requests with 500 or
 *   429 (for `seconds`, default until cleared);
 * - `latencyMs` delay every API request (0 removes it);
 * - `stallWatches: true|false` open and new watches stay connected but receive nothing, not even
 *   bookmarks (false ends the stalled watches);
 * - `downForSeconds` close the listener and every connection, listen again on the same port after
 *   that long;
 * - `clear: true` remove every standing fault (error rate, latency, stall) first.
 */
export const FaultsRequestSchema = z
  .object({
    clear: z.literal(true).optional(),
    dropWatches: z.literal(true).optional(),
    resetWatches: z.literal(true).optional(),
    compact: z.literal(true).optional(),
    errorRate: z
      .object({
        fraction: z.number().min(0).max(1),
        status: z.union([z.literal(500), z.literal(429)]),
        seconds: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    stallWatches: z.boolean().optional(),
    downForSeconds: z.number().positive().max(3_600).optional(),
  })
  .strict();
export type FaultsRequest = z.infer<typeof FaultsRequestSchema>;

/** What `POST /_sim/faults` answers: the faults now standing and what was done. */
export const FaultsResponseSchema = z.object({
  errorRate: z.object({ fraction: z.number(), status: z.number(), until: z.number().nullable() }).nullable(),
  latencyMs: z.number(),
  stallWatches: z.boolean(),
  droppedWatches: z.number(),
  compactedAt: z.string().nullable(),
  downUntil: z.number().nullable(),
});
export type FaultsResponse = z.infer<typeof FaultsResponseSchema>;

/** `GET /_sim/stats`: request and watch counters of the server. */
export const SimStatsSchema = z.object({
  resourceVersion: z.string(),
  nodes: z.number(),
  pods: z.number(),
  openWatches: z.number(),
  requests: z.number(),
  responsesByCode: z.record(z.string(), z.number()),
  evictionsRejected: z.number(),
  churnRate: z.number(),
  churnEvents: z.number(),
  /** Churn events dropped because the simulation fell more than a second behind its clock. */
  churnDropped: z.number(),
  paused: z.boolean(),
});
export type SimStats = z.infer<typeof SimStatsSchema>;
