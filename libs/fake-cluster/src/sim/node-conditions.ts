import type { JsonObject, JsonValue, KubeObject } from '../api/kube-object.js';
import { rfc3339 } from './clock.js';

function isRecord(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function conditionsOf(node: KubeObject): JsonObject[] {
  const conditions = node.status?.['conditions'];
  return Array.isArray(conditions) ? conditions.filter(isRecord) : [];
}

/** The status of a node's Ready condition (`True`, `False`, `Unknown`), undefined without one. */
export function readyStatus(node: KubeObject): string | undefined {
  const ready = conditionsOf(node).find((c) => c['type'] === 'Ready');
  return typeof ready?.['status'] === 'string' ? ready['status'] : undefined;
}

function withConditions(node: KubeObject, conditions: JsonObject[]): KubeObject {
  return { ...node, status: { ...(node.status ?? {}), conditions } };
}

/**
 * What the node lifecycle controller writes when a kubelet stopped posting: every
 * condition `Unknown`, reason `NodeStatusUnknown`, transition time now, the last
 * heartbeat kept.
 */
export function unknownConditions(node: KubeObject, now: number): KubeObject {
  const at = rfc3339(now);
  return withConditions(
    node,
    conditionsOf(node).map((c) => ({
      ...c,
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      lastTransitionTime: c['status'] === 'Unknown' ? (c['lastTransitionTime'] ?? at) : at,
    })),
  );
}

const KUBELET_CONDITIONS: Record<string, { status: string; reason: string; message: string }> = {
  MemoryPressure: {
    status: 'False',
    reason: 'KubeletHasSufficientMemory',
    message: 'kubelet has sufficient memory available',
  },
  DiskPressure: {
    status: 'False',
    reason: 'KubeletHasNoDiskPressure',
    message: 'kubelet has no disk pressure',
  },
  PIDPressure: {
    status: 'False',
    reason: 'KubeletHasSufficientPID',
    message: 'kubelet has sufficient PID available',
  },
  Ready: { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
};

/** What a healthy kubelet posts: each condition at its healthy value, heartbeat now, transition now if it changed. */
export function kubeletHealthyConditions(node: KubeObject, now: number): KubeObject {
  const at = rfc3339(now);
  return withConditions(
    node,
    conditionsOf(node).map((c) => {
      const healthy = KUBELET_CONDITIONS[String(c['type'])];
      if (healthy === undefined) return c;
      return {
        ...c,
        ...healthy,
        lastHeartbeatTime: at,
        lastTransitionTime: c['status'] === healthy.status ? (c['lastTransitionTime'] ?? at) : at,
      };
    }),
  );
}
