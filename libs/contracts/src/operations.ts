/**
 * Node operations (issue 6): the REST bodies, the Operation record, the Socket.IO
 * `operation_progress` event, the audit records and the Redis keys that hold them.
 *
 * Validation follows the Kubernetes rules (kube-validation) and every issue names the
 * field it is about (`params.labels.<key>`, `params.taints.0.effect`, `nodes.2`), so a
 * 400 answer's `details[].path` points at the bad input.
 */
import { z } from 'zod';
import { MAX_SUBJECT_LENGTH } from './auth-claims.js';
import { ClusterNameSchema } from './cluster-name.js';
import {
  dns1123SubdomainErrors,
  labelValueErrors,
  qualifiedNameErrors,
  TAINT_EFFECTS,
} from './kube-validation.js';
import { parseLabelSelector, SelectorParseError } from './label-selector.js';
import { MAX_SELECTOR_LENGTH } from './rest-api.js';
import type { Keyspace } from './redis-keys.js';
import type { ClusterName } from './cluster-name.js';

/** The actions an operation can perform on each of its nodes. */
export const OPERATION_ACTIONS = [
  'label',
  'unlabel',
  'taint',
  'untaint',
  'cordon',
  'uncordon',
  'drain',
] as const;
export const OperationActionSchema = z.enum(OPERATION_ACTIONS);
export type OperationAction = z.infer<typeof OperationActionSchema>;

/** The most nodes one operation may name (or a selector may match). */
export const MAX_OPERATION_NODES = 5_000;
/** The longest `reason` accepted (it is stored in a node annotation by cordon and drain). */
export const MAX_REASON_LENGTH = 1_024;

function addErrors(ctx: z.RefinementCtx, problems: string[], path: PropertyKey[], subject: string): void {
  for (const problem of problems) ctx.addIssue({ code: 'custom', path, message: `${subject} ${problem}` });
}

/** A label key, an annotation key or a taint key: `[prefix/]name` (Kubernetes qualified name). */
export const QualifiedNameSchema = z.string({ error: 'must be a string' }).superRefine((value, ctx) => {
  addErrors(ctx, qualifiedNameErrors(value), [], `key "${value}":`);
});

/** A label value (may be empty). */
export const LabelValueSchema = z.string({ error: 'must be a string' }).superRefine((value, ctx) => {
  addErrors(ctx, labelValueErrors(value), [], `value "${value}":`);
});

/** A node name: a DNS-1123 subdomain. */
export const NodeNameSchema = z.string({ error: 'node name must be a string' }).superRefine((value, ctx) => {
  addErrors(ctx, dns1123SubdomainErrors(value), [], `node name "${value}"`);
});

/** The three taint effects. */
export const TaintEffectSchema = z.enum(TAINT_EFFECTS, {
  error: `effect must be one of ${TAINT_EFFECTS.join(', ')}`,
});

/** `label`: set (add or overwrite) these labels on every node. */
export const LabelParamsSchema = z.strictObject({
  labels: z
    .record(z.string(), LabelValueSchema, { error: 'labels must be an object of key -> value' })
    .superRefine((labels, ctx) => {
      const keys = Object.keys(labels);
      if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'labels must name at least one label' });
      for (const key of keys) addErrors(ctx, qualifiedNameErrors(key), [key], `label key "${key}":`);
    }),
});
export type LabelParams = z.infer<typeof LabelParamsSchema>;

/** `unlabel`: remove these label keys from every node (a missing key is not an error). */
export const UnlabelParamsSchema = z.strictObject({
  keys: z
    .array(QualifiedNameSchema, { error: 'keys must be an array of label keys' })
    .min(1, 'keys must name at least one label key'),
});
export type UnlabelParams = z.infer<typeof UnlabelParamsSchema>;

/** One taint to add: key, optional value (label-value rules), effect. */
export const TaintSpecSchema = z.strictObject({
  key: QualifiedNameSchema,
  value: LabelValueSchema.optional(),
  effect: TaintEffectSchema,
});
export type TaintSpec = z.infer<typeof TaintSpecSchema>;

/**
 * `taint`: add these taints. A taint with the same key and effect is replaced (its
 * value updated), like `kubectl taint --overwrite`; an identical one is left alone.
 */
export const TaintParamsSchema = z.strictObject({
  taints: z
    .array(TaintSpecSchema, { error: 'taints must be an array of {key, value?, effect}' })
    .min(1, 'taints must name at least one taint'),
});
export type TaintParams = z.infer<typeof TaintParamsSchema>;

/** One taint to remove: by key, and by effect when given (without: every effect of that key). */
export const TaintRemovalSchema = z.strictObject({
  key: QualifiedNameSchema,
  effect: TaintEffectSchema.optional(),
});
export type TaintRemoval = z.infer<typeof TaintRemovalSchema>;

/** `untaint`: remove these taints (a missing taint is not an error). */
export const UntaintParamsSchema = z.strictObject({
  taints: z
    .array(TaintRemovalSchema, { error: 'taints must be an array of {key, effect?}' })
    .min(1, 'taints must name at least one taint'),
});
export type UntaintParams = z.infer<typeof UntaintParamsSchema>;

/**
 * `cordon`: mark the node unschedulable and record why, who and when in the
 * `knm.io/cordon-reason`, `knm.io/cordoned-by`, `knm.io/cordoned-at` annotations.
 * The reason is the request's top-level `reason`.
 */
export const CordonParamsSchema = z.strictObject({});
export type CordonParams = z.infer<typeof CordonParamsSchema>;

/** `uncordon`: mark the node schedulable and remove the cordon annotations. */
export const UncordonParamsSchema = z.strictObject({});
export type UncordonParams = z.infer<typeof UncordonParamsSchema>;

/** Default of {@link DrainParams.timeoutSeconds}. */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 300;

/**
 * `drain`: cordon (as above), then evict every pod bound to the node through the
 * Eviction API except DaemonSet-owned pods, mirror (static) pods and pods that have
 * already terminated; an eviction refused by a PodDisruptionBudget (429) is retried
 * every few seconds. The node succeeds when every evicted pod is gone, and fails
 * with the pods left when `timeoutSeconds` runs out.
 */
export const DrainParamsSchema = z.strictObject({
  /** Grace period given to each evicted pod; absent: the pod's own. */
  gracePeriodSeconds: z
    .number({ error: 'gracePeriodSeconds must be a number' })
    .int('gracePeriodSeconds must be an integer')
    .min(0, 'gracePeriodSeconds must be at least 0')
    .max(86_400, 'gracePeriodSeconds must be at most 86400')
    .optional(),
  /** How long one node may take, evictions and waiting included (default 300). */
  timeoutSeconds: z
    .number({ error: 'timeoutSeconds must be a number' })
    .int('timeoutSeconds must be an integer')
    .min(1, 'timeoutSeconds must be at least 1')
    .max(86_400, 'timeoutSeconds must be at most 86400')
    .default(DEFAULT_DRAIN_TIMEOUT_SECONDS),
  /**
   * Must be `true` for a drain that reaches a control-plane node (role `control-plane`
   * or `master`): evicting the API server's own node's pods is never done by accident.
   */
  includeControlPlane: z.boolean({ error: 'includeControlPlane must be true or false' }).optional(),
});
export type DrainParams = z.infer<typeof DrainParamsSchema>;
export type DrainParamsInput = z.input<typeof DrainParamsSchema>;

const specMember = <A extends OperationAction, P extends z.ZodType>(action: A, params: P) =>
  z.strictObject({ action: z.literal(action), params });

/**
 * What an operation does: its action and that action's params (a discriminated
 * union on `action`). `cordon` and `uncordon` take `params: {}` (may be omitted in a request).
 */
export const OperationSpecSchema = z.discriminatedUnion(
  'action',
  [
    specMember('label', LabelParamsSchema),
    specMember('unlabel', UnlabelParamsSchema),
    specMember('taint', TaintParamsSchema),
    specMember('untaint', UntaintParamsSchema),
    specMember('cordon', CordonParamsSchema.default({})),
    specMember('uncordon', UncordonParamsSchema.default({})),
    specMember('drain', DrainParamsSchema.default({ timeoutSeconds: DEFAULT_DRAIN_TIMEOUT_SECONDS })),
  ],
  { error: `action must be one of ${OPERATION_ACTIONS.join(', ')}` },
);
export type OperationSpec = z.infer<typeof OperationSpecSchema>;

/** A label selector string, checked with the Kubernetes parser (the message says what is wrong). */
export const LabelSelectorStringSchema = z
  .string({ error: 'selector must be a string' })
  .max(MAX_SELECTOR_LENGTH, `selector must be at most ${MAX_SELECTOR_LENGTH} characters`)
  .superRefine((value, ctx) => {
    if (value.length > MAX_SELECTOR_LENGTH) return;
    try {
      parseLabelSelector(value);
    } catch (err) {
      if (err instanceof SelectorParseError)
        ctx.addIssue({ code: 'custom', message: `selector: ${err.message}` });
      else throw err;
    }
  });

const targetShape = {
  /** The nodes to act on (either this or `selector`). */
  nodes: z
    .array(NodeNameSchema, { error: 'nodes must be an array of node names' })
    .min(1, 'nodes must name at least one node')
    .max(MAX_OPERATION_NODES, `nodes may name at most ${MAX_OPERATION_NODES} nodes`)
    .optional(),
  /**
   * A label selector choosing the nodes (instead of `nodes`), evaluated when the
   * request arrives. Never empty: an empty selector selects every node, which a
   * request must say with `all: true`.
   */
  selector: LabelSelectorStringSchema.optional(),
  /** `true`: every node of the cluster (instead of `nodes` or `selector`), control plane included. */
  all: z
    .literal(true, {
      error: 'all must be true (it targets every node of the cluster); leave it out otherwise',
    })
    .optional(),
  /** Why (kept in the audit trail; for cordon and drain also on the node). */
  reason: z
    .string({ error: 'reason must be a string' })
    .max(MAX_REASON_LENGTH, `reason must be at most ${MAX_REASON_LENGTH} characters`)
    .optional(),
  /** Answer with what would change, change nothing. */
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).optional(),
};

const requestMember = <A extends OperationAction, P extends z.ZodType>(action: A, params: P) =>
  z.strictObject({ action: z.literal(action), params, ...targetShape });

/**
 * `POST /api/v1/clusters/:cluster/operations`. Exactly one of `nodes`, a non-empty
 * `selector` and `all: true`; a drain that reaches control-plane nodes also needs
 * `params.includeControlPlane: true` (checked against the cluster when it arrives).
 * Answers 202 {@link CreateOperationResponse}, or 200 {@link DryRunResponse} with `dryRun: true`.
 */
export const CreateOperationRequestSchema = z
  .discriminatedUnion(
    'action',
    [
      requestMember('label', LabelParamsSchema),
      requestMember('unlabel', UnlabelParamsSchema),
      requestMember('taint', TaintParamsSchema),
      requestMember('untaint', UntaintParamsSchema),
      requestMember('cordon', CordonParamsSchema.default({})),
      requestMember('uncordon', UncordonParamsSchema.default({})),
      requestMember('drain', DrainParamsSchema.default({ timeoutSeconds: DEFAULT_DRAIN_TIMEOUT_SECONDS })),
    ],
    { error: `action must be one of ${OPERATION_ACTIONS.join(', ')}` },
  )
  .superRefine((request, ctx) => {
    const given = [request.nodes, request.selector, request.all].filter((t) => t !== undefined).length;
    if (given === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['nodes'],
        message: 'give one of nodes (a list of names), selector, or all: true',
      });
    }
    if (given > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [request.all !== undefined ? 'all' : 'selector'],
        message: 'give only one of nodes, selector and all',
      });
    }
    if (request.selector !== undefined && request.selector.trim() === '') {
      ctx.addIssue({
        code: 'custom',
        path: ['selector'],
        message:
          'an empty selector selects every node of the cluster: send all: true if that is what you mean',
      });
    }
    if (request.nodes !== undefined) {
      const seen = new Set<string>();
      request.nodes.forEach((node, i) => {
        if (seen.has(node))
          ctx.addIssue({ code: 'custom', path: ['nodes', i], message: `node "${node}" is listed twice` });
        seen.add(node);
      });
    }
  });
export type CreateOperationRequest = z.infer<typeof CreateOperationRequestSchema>;
/** The request as a caller writes it (defaults not yet applied). */
export type CreateOperationRequestInput = z.input<typeof CreateOperationRequestSchema>;

/**
 * Where an operation is: queued -> running -> completed | failed | partial (some nodes
 * failed) | cancelled (`POST /api/v1/operations/:id/cancel`: stopped between nodes, a
 * drain's eviction loop aborted; each node's result says where it was left).
 */
export const OPERATION_STATES = ['queued', 'running', 'completed', 'failed', 'partial', 'cancelled'] as const;
export const OperationStateSchema = z.enum(OPERATION_STATES);
export type OperationState = z.infer<typeof OperationStateSchema>;

/** True for the states an operation never leaves. */
export function isFinalOperationState(state: OperationState): boolean {
  return state === 'completed' || state === 'failed' || state === 'partial' || state === 'cancelled';
}

/**
 * Where one node is: pending -> running -> succeeded | failed | skipped | cancelled.
 * `skipped`: the node vanished before its turn (deleted from the cluster).
 * `cancelled`: the operation was cancelled before the node started, or while its drain
 * was evicting (the message says what was left: cordoned, with the pods not yet evicted).
 */
export const NODE_RESULT_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
] as const;
export const NodeResultStatusSchema = z.enum(NODE_RESULT_STATUSES);
export type NodeResultStatus = z.infer<typeof NodeResultStatusSchema>;

/** True for the node statuses a node never leaves within an operation. */
export function isFinalNodeStatus(status: NodeResultStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'skipped' || status === 'cancelled';
}

/** One node's outcome. */
export const NodeResultSchema = z.object({
  node: z.string(),
  status: NodeResultStatusSchema,
  /** What was done (`set env=prod`, `already cordoned`, `evicted 3 pods`). */
  message: z.string().optional(),
  /** Why it failed (only with `failed`). */
  error: z.string().optional(),
  /** When the status was last set (RFC 3339). */
  updatedAt: z.string().optional(),
});
export type NodeResult = z.infer<typeof NodeResultSchema>;

/** `done` = nodes in a final status; `total` = nodes in the operation. */
export const OperationProgressSchema = z.object({
  done: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
});
export type OperationProgress = z.infer<typeof OperationProgressSchema>;

/** Operation ids: `<cluster>.<uuid>`; the cluster part lets any gateway find (and authorise) it. */
export const OPERATION_ID =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Builds an operation id for `cluster` from a random UUID. */
export function operationId(cluster: ClusterName, uuid: string): string {
  return `${cluster}.${uuid}`;
}

/** The cluster an operation id belongs to, or undefined when `id` is not an operation id. */
export function clusterOfOperationId(id: string): ClusterName | undefined {
  const match = OPERATION_ID.exec(id);
  return match?.[1] !== undefined && match[1].length <= 63 ? (match[1] as ClusterName) : undefined;
}

const operationShape = {
  id: z.string().regex(OPERATION_ID, 'operation id must be <cluster>.<uuid>'),
  cluster: ClusterNameSchema,
  /** The nodes, in the order they are processed (a selector is resolved when the request arrives). */
  nodes: z.array(z.string()),
  /** The selector the request gave, if it gave one. */
  selector: z.string().optional(),
  reason: z.string().optional(),
  state: OperationStateSchema,
  progress: OperationProgressSchema,
  /** One entry per node, in `nodes` order. */
  results: z.array(NodeResultSchema),
  /** The token's `sub`. */
  createdBy: z.string(),
  /**
   * The identity provider's groups of `createdBy` (a dashboard session), sent as
   * `Impersonate-Group` when the cluster impersonates operators.
   */
  createdByGroups: z.array(z.string()).optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** Why the whole operation failed (rare: per-node errors are in `results`). */
  error: z.string().optional(),
  /** When a cancel was asked for (the operation stops at its next node or drain round). */
  cancelRequestedAt: z.string().optional(),
  /** The token `sub` that asked for the cancel. */
  cancelledBy: z.string().optional(),
};

const operationMember = <A extends OperationAction, P extends z.ZodType>(action: A, params: P) =>
  z.object({ action: z.literal(action), params, ...operationShape });

/**
 * An operation: what it does, on which nodes, who asked, and where it is.
 * `GET /api/v1/operations/:id`, the items of `GET /api/v1/clusters/:cluster/operations`
 * and the payload of the Socket.IO `operation_progress` event.
 */
export const OperationSchema = z.discriminatedUnion('action', [
  operationMember('label', LabelParamsSchema),
  operationMember('unlabel', UnlabelParamsSchema),
  operationMember('taint', TaintParamsSchema),
  operationMember('untaint', UntaintParamsSchema),
  operationMember('cordon', CordonParamsSchema),
  operationMember('uncordon', UncordonParamsSchema),
  operationMember('drain', DrainParamsSchema),
]);
export type Operation = z.infer<typeof OperationSchema>;

/** 202 answer of `POST .../operations`. */
export const CreateOperationResponseSchema = z.object({
  operationId: z.string(),
  /** The operation as queued. */
  operation: OperationSchema,
});
export type CreateOperationResponse = z.infer<typeof CreateOperationResponseSchema>;

/** What a node looks like in the aspects an operation touches (dry-run before/after). */
export const NodeAspectsSchema = z.object({
  labels: z.record(z.string(), z.string()).optional(),
  taints: z
    .array(z.object({ key: z.string(), value: z.string().optional(), effect: TaintEffectSchema }))
    .optional(),
  unschedulable: z.boolean().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  /** Non-terminated pods bound to the node (drain; DaemonSet and mirror pods are only told apart at run time). */
  podCount: z.number().int().nonnegative().optional(),
});
export type NodeAspects = z.infer<typeof NodeAspectsSchema>;

/** One node of a dry run. */
export const DryRunChangeSchema = z.object({
  node: z.string(),
  /** False when the node already is as the operation would leave it. */
  changed: z.boolean(),
  /** One line a person can read (`env: staging -> prod`, `already cordoned`). */
  summary: z.string(),
  /** The touched aspects now (only those the action touches). */
  before: NodeAspectsSchema.optional(),
  /** The touched aspects after the operation. */
  after: NodeAspectsSchema.optional(),
});
export type DryRunChange = z.infer<typeof DryRunChangeSchema>;

/** 200 answer of `POST .../operations` with `dryRun: true` (computed from knm's snapshot; nothing changed). */
export const DryRunResponseSchema = z.object({
  dryRun: z.literal(true),
  cluster: ClusterNameSchema,
  action: OperationActionSchema,
  /** One entry per targeted node, in request (or name) order. */
  changes: z.array(DryRunChangeSchema),
});
export type DryRunResponse = z.infer<typeof DryRunResponseSchema>;

/** The most operations `GET .../operations` returns. */
export const MAX_OPERATION_LIST_LIMIT = 200;

/** Query of `GET /api/v1/clusters/:cluster/operations` (newest first). */
export const OperationListQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be an integer')
    .min(1, 'limit must be at least 1')
    .max(MAX_OPERATION_LIST_LIMIT, `limit must be at most ${MAX_OPERATION_LIST_LIMIT}`)
    .default(50),
});
export type OperationListQuery = z.infer<typeof OperationListQuerySchema>;

/** `GET /api/v1/clusters/:cluster/operations`: the most recent operations, newest first. */
export const OperationListResponseSchema = z.object({
  cluster: ClusterNameSchema,
  items: z.array(OperationSchema),
});
export type OperationListResponse = z.infer<typeof OperationListResponseSchema>;

/** Socket.IO event name (namespace `/nodes`) carrying an {@link Operation}. */
export const OPERATION_PROGRESS_EVENT = 'operation_progress';

/**
 * Payload of `operation_progress`: the whole operation as it stands. Sent to the
 * sockets of the user who started it and to the sockets subscribed to its cluster,
 * once per socket, each time a node reaches a final status and when the state changes.
 * Events of one operation may be coalesced; `progress.done` never goes backwards.
 */
export const OperationProgressEventSchema = OperationSchema;
export type OperationProgressEvent = Operation;

/** Per-node counts of a finished operation. */
export const ResultCountsSchema = z.object({
  succeeded: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  /** Nodes left by a cancel (absent in records written before cancel existed). */
  cancelled: z.number().int().nonnegative().optional(),
});
export type ResultCounts = z.infer<typeof ResultCountsSchema>;

/**
 * One audit record (`knm:audit` stream, field `r`): a finished operation, written
 * once by the worker that finished it.
 */
export const AuditRecordSchema = z.object({
  /** The stream entry id (`<ms>-<n>`); set when read. */
  id: z.string().optional(),
  operationId: z.string(),
  /** When the operation finished (RFC 3339). */
  at: z.string(),
  user: z.string(),
  cluster: ClusterNameSchema,
  action: OperationActionSchema,
  params: z.record(z.string(), z.unknown()),
  nodes: z.array(z.string()),
  selector: z.string().optional(),
  reason: z.string().optional(),
  createdAt: z.string(),
  state: OperationStateSchema,
  counts: ResultCountsSchema,
  /** Nodes that failed, with their error. */
  failures: z.array(z.object({ node: z.string(), error: z.string() })),
  /** Who cancelled it (state `cancelled`). */
  cancelledBy: z.string().optional(),
  /**
   * The identity its API calls used when the cluster impersonates operators
   * (`Impersonate-User` / `-Group`); absent: the watcher's own credentials.
   */
  actingAs: z.object({ user: z.string(), groups: z.array(z.string()) }).optional(),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

/** The most records `GET /api/v1/audit` returns. */
export const MAX_AUDIT_LIMIT = 1_000;

const instant = (name: string) =>
  z
    .string({ error: `${name} must be a string` })
    .refine((v) => !Number.isNaN(Date.parse(v)), `${name} must be an RFC 3339 time (2026-11-22T17:00:00Z)`);

/**
 * Query of `GET /api/v1/audit` (all optional): `cluster`, `user` (token `sub`),
 * `action`, `since` / `until` (RFC 3339, inclusive, on the record's `at`),
 * `limit` (1..1000, default 100). Newest first; only clusters the token covers.
 */
export const AuditQuerySchema = z.strictObject({
  cluster: ClusterNameSchema.optional(),
  user: z
    .string()
    .min(1, 'user must not be empty')
    .max(MAX_SUBJECT_LENGTH, `user must be at most ${MAX_SUBJECT_LENGTH} characters`)
    .optional(),
  action: z
    .enum(OPERATION_ACTIONS, { error: `action must be one of ${OPERATION_ACTIONS.join(', ')}` })
    .optional(),
  since: instant('since').optional(),
  until: instant('until').optional(),
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be an integer')
    .min(1, 'limit must be at least 1')
    .max(MAX_AUDIT_LIMIT, `limit must be at most ${MAX_AUDIT_LIMIT}`)
    .default(100),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;
export type AuditQueryInput = z.input<typeof AuditQuerySchema>;

/** `GET /api/v1/audit`. */
export const AuditResponseSchema = z.object({ items: z.array(AuditRecordSchema) });
export type AuditResponse = z.infer<typeof AuditResponseSchema>;

/** The BullMQ queue name of a cluster's operations (its prefix is `Keyspace.cluster(c).queuePrefix`). */
export const OPERATIONS_QUEUE = 'ops';

/** The Redis keys of a cluster's operations (all in the cluster's hash-tag slot). */
export interface OperationKeys {
  /** BullMQ prefix (`knm:{c}`) and queue name (`ops`). */
  readonly queuePrefix: string;
  readonly queueName: string;
  /** Sorted set: operation id -> createdAt (ms), for the recent list. */
  readonly index: string;
  /** Hash of one operation: `op` (its static part, JSON), `state`, `startedAt`, `finishedAt`, `error`, `audited`. */
  operation(id: string): string;
  /** Hash of one operation's node results: node -> NodeResult JSON. */
  results(id: string): string;
  /** String: the id of the unfinished operation holding `node` (one operation per node at a time). */
  nodeLock(node: string): string;
}

/**
 * The keys of `cluster`'s operations: `knm:{c}:opx` (index), `knm:{c}:op:<id>`,
 * `knm:{c}:op:<id>:results`, `knm:{c}:oplock:<node>`.
 */
export function operationKeys(keyspace: Keyspace, cluster: ClusterName): OperationKeys {
  const prefix = keyspace.cluster(cluster).queuePrefix;
  return {
    queuePrefix: prefix,
    queueName: OPERATIONS_QUEUE,
    index: `${prefix}:opx`,
    operation: (id) => `${prefix}:op:${id}`,
    results: (id) => `${prefix}:op:${id}:results`,
    nodeLock: (node) => `${prefix}:oplock:${node}`,
  };
}
