import type { JsonObject, JsonValue, KubeObject } from '../api/kube-object.js';
import type { StoredChange } from '../store/change-log.js';
import { lowerBound, objectKey } from '../store/kind-store.js';
import type { Cluster } from './cluster.js';
import { boundPod, controllerOf, finishedPod, runningPod } from './pod-status.js';
import { hasRoomFor } from './resource-fit.js';
import { podTotals } from '../store/pod-totals.js';
import { randomBetween, randomChance, randomIndex } from './sim-random.js';

/** Options of {@link PodControllers}. */
export interface PodControllersOptions {
  /** How long a Job's pod runs before it finishes, in ms: [min, max). Default [5,000, 60,000). */
  jobRunMs?: [number, number];
  /** Fraction of Job pods that fail rather than succeed. Default 0.1. */
  jobFailureRate?: number;
  /** Retry interval of the scheduler while some pods do not fit anywhere. Default 1,000 ms. */
  schedulerRetryMs?: number;
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

function isRecord(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function taintsOf(node: KubeObject): Taint[] {
  const taints = node.spec?.['taints'];
  if (!Array.isArray(taints)) return [];
  return taints.filter(isRecord).map((t) => ({
    key: String(t['key'] ?? ''),
    ...(typeof t['value'] === 'string' ? { value: t['value'] } : {}),
    effect: String(t['effect'] ?? ''),
  }));
}

/** Whether the pod's tolerations tolerate a taint (core/v1 Toleration.ToleratesTaint). */
export function tolerates(pod: KubeObject, taint: Taint): boolean {
  const tolerations = pod.spec?.['tolerations'];
  if (!Array.isArray(tolerations)) return false;
  return tolerations.filter(isRecord).some((t) => {
    const effect = t['effect'];
    if (typeof effect === 'string' && effect !== '' && effect !== taint.effect) return false;
    const key = typeof t['key'] === 'string' ? t['key'] : '';
    const operator = t['operator'] === 'Exists' ? 'Exists' : 'Equal';
    if (key === '') return operator === 'Exists';
    if (key !== taint.key) return false;
    if (operator === 'Exists') return true;
    return (typeof t['value'] === 'string' ? t['value'] : '') === (taint.value ?? '');
  });
}

/** Whether a node accepts new pods at all: Ready, not cordoned. */
export function isSchedulableNode(node: KubeObject): boolean {
  if (node.metadata.deletionTimestamp !== undefined || node.spec?.['unschedulable'] === true) return false;
  const conditions = node.status?.['conditions'];
  if (!Array.isArray(conditions)) return false;
  return conditions.some((c) => isRecord(c) && c['type'] === 'Ready' && c['status'] === 'True');
}

/** Whether `pod` may run on `node`: taints (NoSchedule/NoExecute) tolerated, nodeSelector met. */
export function fits(pod: KubeObject, node: KubeObject): boolean {
  for (const taint of taintsOf(node)) {
    if ((taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerates(pod, taint))
      return false;
  }
  const selector = pod.spec?.['nodeSelector'];
  if (isRecord(selector)) {
    const labels = node.metadata.labels ?? {};
    for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  }
  return true;
}

function maxPodsOf(node: KubeObject): number {
  const pods = (node.status?.['allocatable'] as JsonObject | undefined)?.['pods'];
  const n = Number(pods);
  return Number.isFinite(n) && n > 0 ? n : 110;
}

/**
 * The controllers and kubelets of the simulated cluster, reacting to store changes
 * by scheduling simulated tasks (never by writing inside the change listener):
 * - scheduler: binds Pending pods to Ready, schedulable nodes whose NoSchedule /
 *   NoExecute taints they tolerate, with room left (allocatable pods, and every
 *   resource the pod requests beside the requests already on the node);
 * - kubelet: a bound Pending pod becomes Running (Ready) after the startup time;
 * - ReplicaSet controller: a ReplicaSet pod that starts terminating (delete,
 *   eviction) or vanishes gets a replacement, so drain behaves as in a real cluster;
 * - DaemonSet controller: a new node gets one pod per DaemonSet;
 * - Job pods finish (Succeeded, or Failed at `jobFailureRate`) after running a while.
 */
export class PodControllers {
  private readonly pending = new Set<string>();
  private readonly starting = new Set<string>();
  /** Pod uids whose disappearance must not trigger a replacement (churn "moves" replace them itself). */
  private readonly noReplace = new Set<string>();
  /** Names of the schedulable nodes ({@link isSchedulableNode}), sorted: kept from the node changes. */
  private readonly schedulable: string[] = [];
  private passScheduled = false;
  private readonly jobRunMs: [number, number];
  private readonly jobFailureRate: number;
  private readonly retryMs: number;

  constructor(
    private readonly cluster: Cluster,
    options: PodControllersOptions = {},
  ) {
    this.jobRunMs = options.jobRunMs ?? [5_000, 60_000];
    this.jobFailureRate = options.jobFailureRate ?? 0.1;
    this.retryMs = options.schedulerRetryMs ?? 1_000;
    for (const node of cluster.store.kind('Node').sorted())
      if (isSchedulableNode(node)) this.schedulable.push(node.metadata.name);
    for (const pod of cluster.store.kind('Pod').sorted()) this.observePod(pod, undefined);
    cluster.store.subscribe((event) => this.onChange(event));
  }

  /** Pods waiting for a node. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Marks a pod whose deletion the caller replaces itself (no ReplicaSet replacement). */
  skipReplacement(uid: string): void {
    this.noReplace.add(uid);
  }

  /**
   * The schedulable nodes (Ready, not cordoned, not being deleted) in name order:
   * what `store.kind('Node').sorted().filter(isSchedulableNode)` returns, without
   * looking at every node.
   */
  schedulableNodes(): KubeObject[] {
    const nodes = this.cluster.store.kind('Node');
    return this.schedulable.map((name) => nodes.get(name) as KubeObject);
  }

  private trackSchedulable(event: StoredChange): void {
    const name = event.key;
    const now = event.type !== 'DELETED' && isSchedulableNode(event.object);
    const index = lowerBound(this.schedulable, name);
    const was = this.schedulable[index] === name;
    if (now && !was) this.schedulable.splice(index, 0, name);
    else if (!now && was) this.schedulable.splice(index, 1);
  }

  private onChange(event: StoredChange): void {
    if (event.kind === 'Pod') {
      if (event.type === 'DELETED') {
        this.pending.delete(event.key);
        const prev = event.previous;
        if (prev && prev.metadata.deletionTimestamp === undefined) this.maybeReplace(prev);
        if (prev) this.noReplace.delete(prev.metadata.uid);
        return;
      }
      this.observePod(event.object, event.previous);
    } else if (event.kind === 'Node') {
      this.trackSchedulable(event);
      if (event.type === 'ADDED') {
        const name = event.object.metadata.name;
        this.cluster.schedule(0, () => this.createDaemonPods(name));
      }
      if (event.type !== 'DELETED' && this.pending.size > 0)
        this.ensurePass(this.cluster.timings.scheduleDelayMs);
    }
  }

  private observePod(pod: KubeObject, previous: KubeObject | undefined): void {
    const key = objectKey(pod);
    const nodeName = pod.spec?.['nodeName'];
    const bound = typeof nodeName === 'string' && nodeName !== '';
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    const phase = pod.status?.['phase'];
    if (!bound && !terminating && phase === 'Pending') {
      this.pending.add(key);
      this.ensurePass(this.cluster.timings.scheduleDelayMs);
    } else {
      this.pending.delete(key);
    }
    const uid = pod.metadata.uid;
    if (bound && !terminating && phase === 'Pending' && !this.starting.has(uid)) {
      this.starting.add(uid);
      this.cluster.schedule(this.cluster.timings.startupMs, () => this.start(key, uid));
    }
    if (terminating && previous !== undefined && previous.metadata.deletionTimestamp === undefined) {
      this.maybeReplace(pod);
    }
    if (phase === 'Running' && previous !== undefined && previous.status?.['phase'] !== 'Running') {
      if (controllerOf(pod)?.kind === 'Job') {
        const [min, max] = this.jobRunMs;
        this.cluster.schedule(randomBetween(this.cluster.random, min, max), () => this.finish(key, uid));
      }
    }
  }

  private ensurePass(delayMs: number): void {
    if (this.passScheduled) return;
    this.passScheduled = true;
    this.cluster.schedule(delayMs, () => this.schedulePass());
  }

  /** One scheduling pass over every pending pod. */
  private schedulePass(): void {
    this.passScheduled = false;
    if (this.pending.size === 0) return;
    const { store, random, podCounts, allocation } = this.cluster;
    const candidates = this.schedulableNodes();
    const extra = new Map<string, number>();
    for (const key of [...this.pending]) {
      const pod = store.get('Pod', key);
      if (pod === undefined) {
        this.pending.delete(key);
        continue;
      }
      if (candidates.length === 0) break;
      const requests = podTotals(pod).requests;
      const start = randomIndex(random, candidates.length);
      for (let i = 0; i < candidates.length; i++) {
        const node = candidates[(start + i) % candidates.length] as KubeObject;
        const name = node.metadata.name;
        if (podCounts.get(name) + (extra.get(name) ?? 0) >= maxPodsOf(node)) continue;
        if (!fits(pod, node) || !hasRoomFor(requests, node, allocation)) continue;
        this.pending.delete(key);
        this.cluster.write('Pod', boundPod(pod, name, this.cluster.now()));
        break;
      }
    }
    if (this.pending.size > 0) this.ensurePass(this.retryMs);
  }

  private start(key: string, uid: string): void {
    this.starting.delete(uid);
    const pod = this.cluster.store.get('Pod', key);
    if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp !== undefined) return;
    if (pod.status?.['phase'] !== 'Pending') return;
    const nodeName = String(pod.spec?.['nodeName'] ?? '');
    const node = this.cluster.store.get('Node', nodeName);
    this.cluster.write('Pod', runningPod(pod, node, this.cluster.now(), this.cluster.random));
  }

  private finish(key: string, uid: string): void {
    const pod = this.cluster.store.get('Pod', key);
    if (!pod || pod.metadata.uid !== uid || pod.status?.['phase'] !== 'Running') return;
    const failed = randomChance(this.cluster.random, this.jobFailureRate);
    this.cluster.write('Pod', finishedPod(pod, !failed, this.cluster.now()));
  }

  private maybeReplace(pod: KubeObject): void {
    if (this.noReplace.has(pod.metadata.uid)) return;
    const owner = controllerOf(pod);
    if (owner?.kind !== 'ReplicaSet') return;
    const ns = pod.metadata.namespace ?? 'default';
    this.cluster.schedule(0, () => {
      const rs = this.cluster.store.get('ReplicaSet', `${ns}/${owner.name}`);
      if (rs === undefined || rs.metadata.deletionTimestamp !== undefined) return;
      this.cluster.createObject('Pod', replacementPod(pod, owner.name));
    });
  }

  /** DaemonSet controller: one pod of every DaemonSet on a new node, bound to it. */
  private createDaemonPods(nodeName: string): void {
    const { store } = this.cluster;
    if (!store.get('Node', nodeName)) return;
    for (const ds of store.kind('DaemonSet').sorted()) {
      const template = (ds.spec?.['template'] ?? {}) as JsonObject;
      const meta = (template['metadata'] ?? {}) as JsonObject;
      const spec = (template['spec'] ?? {}) as JsonObject;
      const labels = (isRecord(meta['labels']) ? meta['labels'] : {}) as Record<string, string>;
      this.cluster.createObject('Pod', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: '',
          generateName: `${ds.metadata.name}-`,
          namespace: ds.metadata.namespace ?? 'default',
          uid: '',
          resourceVersion: '',
          creationTimestamp: '',
          labels: { ...labels },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'DaemonSet',
              name: ds.metadata.name,
              uid: ds.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: {
          ...spec,
          nodeName,
          tolerations: [{ operator: 'Exists' }],
        },
      });
    }
  }
}

/** A new pod for a ReplicaSet, shaped like the one it replaces (unbound, no status). */
export function replacementPod(pod: KubeObject, rsName: string): KubeObject {
  const spec = { ...(pod.spec ?? {}) };
  delete spec['nodeName'];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: '',
      generateName: `${rsName}-`,
      namespace: pod.metadata.namespace ?? 'default',
      uid: '',
      resourceVersion: '',
      creationTimestamp: '',
      ...(pod.metadata.labels ? { labels: { ...pod.metadata.labels } } : {}),
      ...(pod.metadata.ownerReferences
        ? { ownerReferences: pod.metadata.ownerReferences.map((o) => ({ ...o })) }
        : {}),
    },
    spec,
  };
}
