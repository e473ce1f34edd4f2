import { z } from 'zod';
import { ClusterNameSchema } from './cluster-name.js';
import { ConditionStatusSchema, TaintSchema } from './node-snapshot.js';

/**
 * Where an entry's `at` comes from: `transition` is the Kubernetes object's own time
 * of the change (a condition's `lastTransitionTime`, a taint's `timeAdded`),
 * `observed` is when the leading watcher wrote the change (no such time, or it did
 * not move with the change).
 */
export const HistoryTimeSourceSchema = z.enum(['transition', 'observed']);
export type HistoryTimeSource = z.infer<typeof HistoryTimeSourceSchema>;

const base = {
  /** RFC 3339. */
  at: z.string(),
  timeSource: HistoryTimeSourceSchema,
};

/** A condition changed status, appeared (`previous` absent) or disappeared (`status` `Removed`). */
const ConditionEntrySchema = z.object({
  ...base,
  kind: z.literal('condition'),
  condition: z.string(),
  status: z.union([ConditionStatusSchema, z.literal('Removed')]),
  previous: ConditionStatusSchema.optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

/** `spec.unschedulable` set; `reason` and `by` from knm's cordon annotations when present. */
const CordonEntrySchema = z.object({
  ...base,
  kind: z.literal('cordon'),
  reason: z.string().optional(),
  by: z.string().optional(),
});

const UncordonEntrySchema = z.object({ ...base, kind: z.literal('uncordon') });

/** A taint (key, value, effect) that appeared or disappeared; a changed value is a removal and an addition. */
const TaintEntrySchema = z.object({
  ...base,
  kind: z.enum(['taint_added', 'taint_removed']),
  taint: TaintSchema,
});

const NodeLifeEntrySchema = z.object({ ...base, kind: z.enum(['node_added', 'node_removed']) });

/**
 * A knm operation's step on the node finished (`succeeded` or `failed`; a node an
 * operation skipped or never started is not touched): written with the step's final
 * result, once per operation and node.
 */
const OperationEntrySchema = z.object({
  ...base,
  kind: z.literal('operation'),
  operation: z.object({
    id: z.string(),
    /** `label`, `taint`, `cordon`, `uncordon`, `drain`, ... (the operation's action). */
    action: z.string(),
    status: z.enum(['succeeded', 'failed']),
    by: z.string(),
    message: z.string().optional(),
    error: z.string().optional(),
  }),
});

/**
 * One transition of one node that matters to a person, as the history stream
 * stores it (field `h`, JSON). Derived by `deriveHistory` from the same old/new
 * snapshot pair that produces the node's envelope.
 */
export const HistoryRecordSchema = z.discriminatedUnion('kind', [
  ConditionEntrySchema,
  CordonEntrySchema,
  UncordonEntrySchema,
  TaintEntrySchema,
  NodeLifeEntrySchema,
  OperationEntrySchema,
]);
export type HistoryRecord = z.infer<typeof HistoryRecordSchema>;
export type HistoryKind = HistoryRecord['kind'];

/** A stored record with its stream entry ID (`<ms>-<n>`, the order entries were written in). */
export const HistoryEntrySchema = z.intersection(HistoryRecordSchema, z.object({ id: z.string() }));
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

/** The longest page of history one request may ask for. */
export const MAX_HISTORY_LIMIT = 1_000;

/**
 * Query of `GET /api/v1/clusters/:c/nodes/:n/history`: `limit` (1..1000, default
 * 100) entries, newest first, written before the entry ID `before` (the previous
 * page's `next`; absent = from the newest).
 */
export const HistoryQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be an integer')
    .min(1, 'limit must be at least 1')
    .max(MAX_HISTORY_LIMIT, `limit must be at most ${MAX_HISTORY_LIMIT}`)
    .default(100),
  before: z
    .string()
    .regex(/^\d{1,16}-\d{1,16}$/, 'before must be an entry ID (<ms>-<n>) from a previous page')
    .optional(),
});
export type HistoryQuery = z.infer<typeof HistoryQuerySchema>;

/** One page of a node's history, newest first; `next` is the `before` of the next page (absent on the last). */
export const HistoryPageSchema = z.object({
  cluster: ClusterNameSchema,
  node: z.string(),
  items: z.array(HistoryEntrySchema),
  next: z.string().optional(),
});
export type HistoryPage = z.infer<typeof HistoryPageSchema>;
