import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';
import { ClusterStatusSchema } from './cluster-status.js';
import { NodeAspectSchema } from './node-changes.js';
import { NodeSnapshotSchema } from './node-snapshot.js';
import { NodeAllocationSchema, UsageSnapshotSchema } from './node-resources.js';

/** The kinds of change pushed to clients. */
export const ENVELOPE_TYPES = [
  'node_add',
  'node_update',
  'node_delete',
  'pod_counts',
  'allocation',
  'usage',
  'cluster_status',
  'resync',
] as const;
export const EnvelopeTypeSchema = z.enum(ENVELOPE_TYPES);
export type EnvelopeType = z.infer<typeof EnvelopeTypeSchema>;

const base = {
  cluster: ClusterNameSchema,
  /** Per-cluster sequence number: strictly increasing, no gaps within one epoch's stream. */
  seq: z.number().int().positive(),
  /** RFC 3339 time (millisecond precision) the watcher wrote the change. */
  timestamp: z.string(),
};

/** The node's pod count: non-terminated pods bound to it. */
export const PodCountsDataSchema = z.object({
  /** Absolute counts of the nodes whose count changed; 0 means none left. */
  counts: z.record(z.string(), z.number().int().nonnegative()),
});

/**
 * What the pods on nodes take of them: the absolute allocation of every node whose
 * allocation changed (written with the pod counts of the same pods, in the same
 * step); empty requests and limits mean nothing is left on the node.
 */
export const AllocationDataSchema = z.object({ nodes: z.record(z.string(), NodeAllocationSchema) });

export const ClusterStatusDataSchema = z.object({
  status: ClusterStatusSchema,
  error: z.string().optional(),
  nodeCount: z.number().int().nonnegative().optional(),
  podCount: z.number().int().nonnegative().optional(),
  syncedAt: z.string().optional(),
  leader: z.string().optional(),
});

/**
 * Why clients must reload their view instead of applying deltas. Relists, leader
 * changes, failed writes and slow sockets never need it (they reach clients as
 * ordinary envelopes or folded batches); only a state whose continuity cannot be
 * proven does:
 * - `rebuild`: the watcher found no state of the cluster's current life in Redis
 *   (first start, or Redis lost its data) and wrote it whole;
 * - `replay_unavailable`: the gateway cannot continue from the client's seq (it is
 *   ahead of what Redis holds: Redis lost its data).
 */
export const ResyncReasonSchema = z.enum(['rebuild', 'replay_unavailable']);
export type ResyncReason = z.infer<typeof ResyncReasonSchema>;

/**
 * One change of one cluster, as stored in `knm:{c}:events`, published on
 * `knm:{c}:changes` and pushed over Socket.IO. Discriminated by `type`; `node` is
 * set for the three node types. The state it describes is already in the cluster's
 * hashes when the envelope can be seen (the watcher writes both atomically).
 */
export const EnvelopeSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('node_add'), node: z.string(), data: NodeSnapshotSchema }),
  z.object({
    ...base,
    type: z.literal('node_update'),
    node: z.string(),
    changes: z.array(NodeAspectSchema).min(1),
    data: NodeSnapshotSchema,
  }),
  z.object({
    ...base,
    type: z.literal('node_delete'),
    node: z.string(),
    data: z.object({ uid: z.string() }),
  }),
  z.object({ ...base, type: z.literal('pod_counts'), data: PodCountsDataSchema }),
  z.object({ ...base, type: z.literal('allocation'), data: AllocationDataSchema }),
  /** One poll of the metrics API: the usage of every node at once (it replaces the previous one). */
  z.object({ ...base, type: z.literal('usage'), data: UsageSnapshotSchema }),
  z.object({ ...base, type: z.literal('cluster_status'), data: ClusterStatusDataSchema }),
  z.object({
    ...base,
    type: z.literal('resync'),
    data: z.object({ reason: ResyncReasonSchema, epoch: z.number().int().nonnegative() }),
  }),
]);
export type Envelope = z.infer<typeof EnvelopeSchema>;
/** The envelope of one type, e.g. `EnvelopeOf<'node_update'>`. */
export type EnvelopeOf<T extends EnvelopeType> = Extract<Envelope, { type: T }>;
