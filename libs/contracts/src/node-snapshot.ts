import { z } from 'zod';

/** `True`, `False` or `Unknown`, as Kubernetes condition statuses are. */
export const ConditionStatusSchema = z.enum(['True', 'False', 'Unknown']);
export type ConditionStatus = z.infer<typeof ConditionStatusSchema>;

/** A node condition without its heartbeat time (which changes on every kubelet update). */
export const NodeConditionSchema = z.object({
  type: z.string(),
  status: ConditionStatusSchema,
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
});
export type NodeCondition = z.infer<typeof NodeConditionSchema>;

export const TaintSchema = z.object({
  key: z.string(),
  value: z.string().optional(),
  /**
   * `NoSchedule`, `PreferNoSchedule` or `NoExecute` today (`TAINT_EFFECTS`), but kept
   * as any string: an effect a newer Kubernetes adds still constrains scheduling, so
   * the node is shown with it as the API server has it, never dropped and never
   * left undecodable.
   */
  effect: z.string(),
  timeAdded: z.string().optional(),
});
export type Taint = z.infer<typeof TaintSchema>;

export const NodeAddressSchema = z.object({ type: z.string(), address: z.string() });
export type NodeAddress = z.infer<typeof NodeAddressSchema>;

export const NodeInfoSchema = z.object({
  kubeletVersion: z.string(),
  osImage: z.string(),
  kernelVersion: z.string(),
  containerRuntimeVersion: z.string(),
  architecture: z.string(),
  operatingSystem: z.string(),
});
export type NodeInfo = z.infer<typeof NodeInfoSchema>;

/** Resource name (`cpu`, `memory`, `pods`, `ephemeral-storage`, `nvidia.com/gpu`, ...) -> quantity string. */
export const ResourceListSchema = z.record(z.string(), z.string());
export type ResourceList = z.infer<typeof ResourceListSchema>;

/**
 * What knm keeps of a Kubernetes Node: everything a person or a scheduler decision
 * cares about, nothing that changes on every kubelet heartbeat (no
 * `lastHeartbeatTime`, no images, no volumesInUse, only allow-listed annotations).
 * Produced from a Node by `projectNode`; compared by `diffNodeSnapshots`.
 */
export const NodeSnapshotSchema = z.object({
  name: z.string(),
  uid: z.string(),
  /** Opaque: compare for equality only, never order it. */
  resourceVersion: z.string(),
  creationTimestamp: z.string(),
  labels: z.record(z.string(), z.string()),
  /** Only the annotations in `SNAPSHOT_ANNOTATIONS`. */
  annotations: z.record(z.string(), z.string()),
  taints: z.array(TaintSchema),
  unschedulable: z.boolean(),
  /** From `node-role.kubernetes.io/<role>` labels, sorted. */
  roles: z.array(z.string()),
  /** Status of the `Ready` condition; `Unknown` when the node has none. */
  ready: ConditionStatusSchema,
  conditions: z.array(NodeConditionSchema),
  addresses: z.array(NodeAddressSchema),
  capacity: ResourceListSchema,
  allocatable: ResourceListSchema,
  nodeInfo: NodeInfoSchema,
  podCIDRs: z.array(z.string()),
});
export type NodeSnapshot = z.infer<typeof NodeSnapshotSchema>;

/** Annotation recording why a node was cordoned (set by knm's cordon operation). */
export const ANNOTATION_CORDON_REASON = 'knm.io/cordon-reason';
/** Annotation recording who cordoned a node through knm. */
export const ANNOTATION_CORDONED_BY = 'knm.io/cordoned-by';
/** Annotation recording when a node was cordoned through knm (RFC 3339). */
export const ANNOTATION_CORDONED_AT = 'knm.io/cordoned-at';

/**
 * The annotations a snapshot keeps. Everything else (kubelet and controller
 * bookkeeping such as `node.alpha.kubernetes.io/ttl` or
 * `volumes.kubernetes.io/controller-managed-attach-detach`) is dropped: it is noise
 * for the people watching and would turn bookkeeping updates into events.
 */
export const SNAPSHOT_ANNOTATIONS: readonly string[] = [
  ANNOTATION_CORDON_REASON,
  ANNOTATION_CORDONED_BY,
  ANNOTATION_CORDONED_AT,
  'cluster-autoscaler.kubernetes.io/scale-down-disabled',
  'node.kubernetes.io/exclude-from-external-load-balancers',
];

/** The label prefix that marks a node role (`node-role.kubernetes.io/control-plane`). */
export const NODE_ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
