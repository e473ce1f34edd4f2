import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';

/**
 * A cluster's state as readers see it:
 * - `syncing`: a watcher is listing; the hashes may not reflect the cluster yet
 * - `ready`: the hashes equal the cluster as of the last event
 * - `degraded`: the watcher cannot reach the API server (see `error`); data is the last known
 * - `stale`: computed by readers, never written: the leader's heartbeat is too old
 */
export const ClusterStatusSchema = z.enum(['syncing', 'ready', 'degraded', 'stale']);
export type ClusterStatus = z.infer<typeof ClusterStatusSchema>;

const optionalNumber = z.coerce.number().int().nonnegative().optional();
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/**
 * `knm:{<cluster>}:meta`, a Redis hash whose fields are all strings; this schema
 * decodes them (numbers coerced, empty strings treated as absent).
 */
export const ClusterMetaSchema = z.object({
  /** Sequence number of the last envelope written (0 before the first). */
  seq: z.coerce.number().int().nonnegative().default(0),
  /** Fencing epoch of the leader that wrote last. */
  epoch: z.coerce.number().int().nonnegative().default(0),
  status: ClusterStatusSchema.default('syncing'),
  error: optionalString,
  /** RFC 3339 time of the last completed (re)list. */
  syncedAt: optionalString,
  /** RFC 3339 time of the last change written. */
  lastEventAt: optionalString,
  /** RFC 3339 time the leader last renewed its lease; readers derive `stale` from it. */
  heartbeatAt: optionalString,
  nodeCount: optionalNumber,
  podCount: optionalNumber,
  /** Identity of the leading watcher (`host/pid/random`). */
  leader: optionalString,
});
export type ClusterMeta = z.infer<typeof ClusterMetaSchema>;

/** An entry of the `knm:clusters` hash (cluster name -> this, as JSON). */
export const ClusterRegistryEntrySchema = z.object({
  name: ClusterNameSchema,
  /** RFC 3339 time the cluster was first registered. */
  registeredAt: z.string(),
  /** Where the watcher reads the cluster from (API server URL), for display only. */
  server: z.string().optional(),
});
export type ClusterRegistryEntry = z.infer<typeof ClusterRegistryEntrySchema>;
