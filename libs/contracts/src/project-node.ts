import {
  NODE_ROLE_LABEL_PREFIX,
  SNAPSHOT_ANNOTATIONS,
  type ConditionStatus,
  type NodeCondition,
  type NodeSnapshot,
  type Taint,
} from './node-snapshot.js';

/** A timestamp as Kubernetes JSON carries it (string) or as client-node decodes it (Date). */
export type KubeTime = string | Date;

/**
 * The fields of a Kubernetes Node (core/v1) that `projectNode` reads. Structural, so
 * it accepts raw JSON from the API and `@kubernetes/client-node`'s `V1Node` alike.
 */
export interface KubeNodeLike {
  metadata?: {
    name?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: KubeTime;
    labels?: Record<string, string> | null;
    annotations?: Record<string, string> | null;
  };
  spec?: {
    unschedulable?: boolean | null;
    taints?: { key: string; value?: string | null; effect: string; timeAdded?: KubeTime | null }[] | null;
    podCIDR?: string | null;
    podCIDRs?: string[] | null;
  };
  status?: {
    conditions?:
      | {
          type: string;
          status: string;
          reason?: string | null;
          message?: string | null;
          lastTransitionTime?: KubeTime | null;
          lastHeartbeatTime?: KubeTime | null;
        }[]
      | null;
    addresses?: { type: string; address: string }[] | null;
    capacity?: Record<string, string> | null;
    allocatable?: Record<string, string> | null;
    nodeInfo?: Partial<Record<string, string>> | null;
  };
}

/**
 * Projects a Kubernetes Node into a {@link NodeSnapshot}. Pure and total: missing
 * fields become empty values, never exceptions, so a half-initialised node (no
 * status yet) still projects. Heartbeat times are dropped here, which is what makes
 * heartbeat-only updates compare equal.
 */
export function projectNode(node: KubeNodeLike): NodeSnapshot {
  const meta = node.metadata ?? {};
  const spec = node.spec ?? {};
  const status = node.status ?? {};
  const labels = { ...(meta.labels ?? {}) };
  const conditions = (status.conditions ?? []).map(projectCondition);
  const info = status.nodeInfo ?? {};
  return {
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    resourceVersion: meta.resourceVersion ?? '',
    creationTimestamp: toIso(meta.creationTimestamp) ?? '',
    labels,
    annotations: pickAnnotations(meta.annotations ?? {}),
    taints: (spec.taints ?? []).map(projectTaint),
    unschedulable: spec.unschedulable === true,
    roles: rolesOf(labels),
    ready: conditions.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
    conditions,
    addresses: (status.addresses ?? []).map((a) => ({ type: a.type, address: a.address })),
    capacity: { ...(status.capacity ?? {}) },
    allocatable: { ...(status.allocatable ?? {}) },
    nodeInfo: {
      kubeletVersion: info['kubeletVersion'] ?? '',
      osImage: info['osImage'] ?? '',
      kernelVersion: info['kernelVersion'] ?? '',
      containerRuntimeVersion: info['containerRuntimeVersion'] ?? '',
      architecture: info['architecture'] ?? '',
      operatingSystem: info['operatingSystem'] ?? '',
    },
    podCIDRs:
      spec.podCIDRs && spec.podCIDRs.length > 0 ? [...spec.podCIDRs] : spec.podCIDR ? [spec.podCIDR] : [],
  };
}

/** Roles from `node-role.kubernetes.io/<role>` labels, sorted; what `kubectl get nodes` shows as ROLES. */
export function rolesOf(labels: Record<string, string>): string[] {
  const roles: string[] = [];
  for (const key of Object.keys(labels)) {
    if (key.startsWith(NODE_ROLE_LABEL_PREFIX)) {
      const role = key.slice(NODE_ROLE_LABEL_PREFIX.length);
      if (role) roles.push(role);
    }
  }
  if (labels['kubernetes.io/role']) roles.push(labels['kubernetes.io/role']);
  return [...new Set(roles)].sort();
}

function projectCondition(
  c: NonNullable<NonNullable<KubeNodeLike['status']>['conditions']>[number],
): NodeCondition {
  const out: NodeCondition = { type: c.type, status: toConditionStatus(c.status) };
  if (c.reason) out.reason = c.reason;
  if (c.message) out.message = c.message;
  const transition = toIso(c.lastTransitionTime);
  if (transition) out.lastTransitionTime = transition;
  return out;
}

function projectTaint(t: NonNullable<NonNullable<KubeNodeLike['spec']>['taints']>[number]): Taint {
  const out: Taint = { key: t.key, effect: t.effect };
  if (t.value) out.value = t.value;
  const added = toIso(t.timeAdded);
  if (added) out.timeAdded = added;
  return out;
}

function toConditionStatus(value: string): ConditionStatus {
  return value === 'True' || value === 'False' ? value : 'Unknown';
}

function pickAnnotations(annotations: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of SNAPSHOT_ANNOTATIONS) {
    const value = annotations[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** RFC 3339 at second precision, as the API server serialises metav1.Time. */
function toIso(value: KubeTime | null | undefined): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
