/**
 * Realistic but lean Pod objects: the containers of their workload's shape (shared,
 * see pod-shapes.ts), the status a kubelet reports for the phase (conditions,
 * container states, IPs), owner references and the scheduler's fields. 2 to 3 KB
 * of JSON each, so 150,000 fit in one process.
 */
import type { JsonObject, KubeObject, OwnerReference } from '../api/kube-object.js';
import { secondsBefore } from './node-factory.js';
import { fixedShape, type PodShape } from './pod-shapes.js';
import type { Rng } from './rng.js';

/** The phases a generated pod can be in. */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** Options of {@link makePod}. */
export interface MakePodOptions {
  namespace: string;
  name: string;
  /** The node it is bound to; absent for a pod the scheduler has not placed (Pending, Unschedulable). */
  nodeName?: string;
  /** Its controller (ReplicaSet, DaemonSet, Job, or Node for mirror pods). */
  owner?: OwnerReference;
  phase: PodPhase;
  now: Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /**
   * Its containers (shared by reference, never copied). Default: one container named
   * after the owner (without its hash, else `app`), `registry.k8s.io/pause:3.10`,
   * requesting 100m / 128Mi.
   */
  shape?: PodShape;
  tolerations?: JsonObject[];
  /** The node's InternalIP (status.hostIP). Default: none. */
  hostIP?: string;
  /** The pod's IP. Default: random in 10.128.0.0/9 once the pod has been placed. */
  podIP?: string;
  /** Pods on the host network (kube-proxy, static pods) use the node's IP. */
  hostNetwork?: boolean;
  /** How long ago it was created, in seconds. Default: random, up to 30 days. */
  ageSeconds?: number;
  /** Container restarts so far. Default 0. */
  restartCount?: number;
  priorityClassName?: string;
  /** Pod uid; default `rng.uuid()`. */
  uid?: string;
  /** Volumes; default a projected service-account token volume is NOT added (leanness). */
  volumes?: JsonObject[];
}

function defaultContainerName(options: MakePodOptions): string {
  const owner = options.owner?.name;
  if (owner === undefined) return 'app';
  if (options.owner?.kind === 'ReplicaSet') return owner.replace(/-[a-z0-9]{8,10}$/, '');
  return owner;
}

/**
 * A Pod with the status a kubelet reports for `phase`: Running (ready, running
 * container), Pending (unschedulable without a node, ContainerCreating with one),
 * Succeeded (terminated Completed, exit 0) or Failed (terminated Error, exit 1).
 */
export function makePod(rng: Rng, options: MakePodOptions): KubeObject {
  const { phase, now } = options;
  const ageSeconds = options.ageSeconds ?? rng.int(60, 30 * 86400);
  const created = secondsBefore(now, ageSeconds);
  const started = secondsBefore(now, Math.max(0, ageSeconds - rng.int(1, 5)));
  const ran = secondsBefore(now, Math.max(0, ageSeconds - rng.int(5, 30)));
  const shape =
    options.shape ??
    fixedShape(defaultContainerName(options), 'registry.k8s.io/pause:3.10', { cpu: '100m', memory: '128Mi' });
  const names = shape.containers.map((c) => String(c['name']));
  const notReady = `containers with unready status: [${names.join(' ')}]`;

  const spec: JsonObject = {
    containers: shape.containers as JsonObject[],
    ...(shape.initContainers ? { initContainers: shape.initContainers as JsonObject[] } : {}),
    restartPolicy: options.owner?.kind === 'Job' ? 'Never' : 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: options.hostNetwork ? 'ClusterFirstWithHostNet' : 'ClusterFirst',
    serviceAccountName: 'default',
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    priority: options.priorityClassName === 'system-node-critical' ? 2000001000 : 0,
  };
  if (shape.runtimeClassName !== undefined) spec['runtimeClassName'] = shape.runtimeClassName;
  if (shape.overhead) spec['overhead'] = shape.overhead;
  if (options.priorityClassName) spec['priorityClassName'] = options.priorityClassName;
  if (options.nodeName !== undefined) spec['nodeName'] = options.nodeName;
  if (options.hostNetwork) spec['hostNetwork'] = true;
  if (options.tolerations) spec['tolerations'] = options.tolerations;
  if (options.volumes) spec['volumes'] = options.volumes;

  const placed = options.nodeName !== undefined;
  const podIP = !placed
    ? undefined
    : options.hostNetwork
      ? options.hostIP
      : (options.podIP ?? `10.${rng.int(128, 256)}.${rng.int(0, 256)}.${rng.int(2, 255)}`);
  const condition = (
    type: string,
    status: string,
    at: string,
    reason?: string,
    message?: string,
  ): JsonObject => ({
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: at,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  });

  const status: JsonObject = { phase, qosClass: shape.qosClass };
  if (!placed) {
    status['conditions'] = [
      condition(
        'PodScheduled',
        'False',
        created,
        'Unschedulable',
        "0/0 nodes are available: no nodes match the pod's node affinity/selector or have enough free resources. preemption: 0/0 nodes are available.",
      ),
    ];
    return finish();
  }

  if (options.hostIP) {
    status['hostIP'] = options.hostIP;
    status['hostIPs'] = [{ ip: options.hostIP }];
  }
  status['startTime'] = started;
  const restartCount = options.restartCount ?? 0;
  const done = phase === 'Succeeded' || phase === 'Failed';
  const finished = secondsBefore(now, Math.max(0, Math.floor(ageSeconds / 2)));
  /** A container's status; ordinary init containers have run to completion once the pod is bound. */
  const containerStatus = (c: JsonObject, completedInit: boolean): JsonObject => {
    const image = String(c['image']);
    const out: JsonObject = {
      name: String(c['name']),
      image,
      imageID: '',
      ready: false,
      restartCount,
      started: false,
    };
    if (phase === 'Pending' && !completedInit) {
      out['state'] = { waiting: { reason: 'ContainerCreating' } };
      return out;
    }
    const containerID = `containerd://${rng.hex(64)}`;
    out['imageID'] = `${image.split(':')[0] ?? image}@sha256:${rng.hex(64)}`;
    out['containerID'] = containerID;
    if (phase === 'Running' && !completedInit) {
      out['ready'] = true;
      out['started'] = true;
      out['state'] = { running: { startedAt: ran } };
      return out;
    }
    const failed = phase === 'Failed' && !completedInit;
    out['state'] = {
      terminated: {
        exitCode: failed ? 1 : 0,
        reason: failed ? 'Error' : 'Completed',
        startedAt: completedInit ? started : ran,
        finishedAt: completedInit ? started : finished,
        containerID,
      },
    };
    return out;
  };
  if (phase === 'Pending') {
    status['conditions'] = [
      condition('PodReadyToStartContainers', 'False', started),
      condition('Initialized', 'True', started),
      condition('Ready', 'False', started, 'ContainersNotReady', notReady),
      condition('ContainersReady', 'False', started, 'ContainersNotReady', notReady),
      condition('PodScheduled', 'True', created),
    ];
  } else {
    const readyStatus = phase === 'Running' ? 'True' : 'False';
    const readyReason = done ? 'PodCompleted' : undefined;
    status['conditions'] = [
      condition('PodReadyToStartContainers', done ? 'False' : 'True', ran),
      condition('Initialized', 'True', started, readyReason),
      condition('Ready', readyStatus, ran, readyReason),
      condition('ContainersReady', readyStatus, ran, readyReason),
      condition('PodScheduled', 'True', created),
    ];
  }
  if (podIP !== undefined && !done) {
    status['podIP'] = podIP;
    status['podIPs'] = [{ ip: podIP }];
  }
  if (shape.initContainers) {
    status['initContainerStatuses'] = shape.initContainers.map((c) =>
      containerStatus(c, c['restartPolicy'] !== 'Always'),
    );
  }
  status['containerStatuses'] = shape.containers.map((c) => containerStatus(c, false));
  return finish();

  function finish(): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: options.name,
        namespace: options.namespace,
        uid: options.uid ?? rng.uuid(),
        resourceVersion: '1',
        ...(options.owner && options.owner.kind !== 'Node' ? { generateName: `${options.owner.name}-` } : {}),
        creationTimestamp: created,
        ...(options.labels ? { labels: options.labels } : {}),
        ...(options.annotations ? { annotations: options.annotations } : {}),
        ...(options.owner ? { ownerReferences: [{ ...options.owner }] } : {}),
      },
      spec,
      status,
    };
  }
}
