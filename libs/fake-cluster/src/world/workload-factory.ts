/**
 * The controller objects that own generated pods (DaemonSet, ReplicaSet, Job) and
 * Namespaces, shaped like the API server returns them, so `kubectl drain` finds the
 * DaemonSet of a DaemonSet pod and owner references point at real objects.
 */
import type { JsonObject, KubeObject, OwnerReference } from '../api/kube-object.js';
import { secondsBefore } from './node-factory.js';
import type { PodShape } from './pod-shapes.js';
import type { Rng } from './rng.js';

/** An owner reference to `owner` as its controller (what controllers put on the pods they create). */
export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** An Active namespace with the `kubernetes.io/metadata.name` label the API server adds. */
export function makeNamespace(rng: Rng, name: string, now: Date, ageSeconds: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      uid: rng.uuid(),
      resourceVersion: '1',
      creationTimestamp: secondsBefore(now, ageSeconds),
      labels: { 'kubernetes.io/metadata.name': name },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

/** The pod template of a workload whose pods have `shape` (its container lists shared, not copied). */
function podTemplate(labels: Record<string, string>, shape: PodShape, extra: JsonObject = {}): JsonObject {
  return {
    metadata: { labels },
    spec: {
      containers: shape.containers as JsonObject[],
      ...(shape.initContainers ? { initContainers: shape.initContainers as JsonObject[] } : {}),
      ...(shape.runtimeClassName !== undefined ? { runtimeClassName: shape.runtimeClassName } : {}),
      ...extra,
    },
  };
}

/** Options of {@link makeDaemonSet}. */
export interface MakeDaemonSetOptions {
  namespace: string;
  name: string;
  shape: PodShape;
  now: Date;
  ageSeconds: number;
  /** The nodes it runs on (sets the status counts). */
  desired: number;
  /** Tolerations of its pods; default tolerate everything (`operator: Exists`). */
  tolerations?: JsonObject[];
  nodeSelector?: Record<string, string>;
}

/** An apps/v1 DaemonSet with RollingUpdate strategy and a status saying all `desired` pods are ready. */
export function makeDaemonSet(rng: Rng, o: MakeDaemonSetOptions): KubeObject {
  const labels = { 'app.kubernetes.io/name': o.name, 'k8s-app': o.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      uid: rng.uuid(),
      resourceVersion: '1',
      generation: 1,
      creationTimestamp: secondsBefore(o.now, o.ageSeconds),
      labels,
      annotations: { 'deprecated.daemonset.template.generation': '1' },
    },
    spec: {
      selector: { matchLabels: { 'k8s-app': o.name } },
      template: podTemplate(labels, o.shape, {
        tolerations: o.tolerations ?? [{ operator: 'Exists' }],
        ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
        priorityClassName: 'system-node-critical',
      }),
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
    },
    status: {
      currentNumberScheduled: o.desired,
      desiredNumberScheduled: o.desired,
      numberAvailable: o.desired,
      numberMisscheduled: 0,
      numberReady: o.desired,
      observedGeneration: 1,
      updatedNumberScheduled: o.desired,
    },
  };
}

/** Options of {@link makeReplicaSet}. */
export interface MakeReplicaSetOptions {
  namespace: string;
  /** The Deployment's name; the ReplicaSet is `<app>-<pod-template-hash>`. */
  app: string;
  shape: PodShape;
  replicas: number;
  now: Date;
  ageSeconds: number;
}

/** An apps/v1 ReplicaSet as a Deployment creates it (`<app>-<hash>`, pod-template-hash label, Deployment owner). */
export function makeReplicaSet(rng: Rng, o: MakeReplicaSetOptions): KubeObject {
  const hash = rng.suffix(10);
  const labels = { app: o.app, 'pod-template-hash': hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${o.app}-${hash}`,
      namespace: o.namespace,
      uid: rng.uuid(),
      resourceVersion: '1',
      generation: 1,
      creationTimestamp: secondsBefore(o.now, o.ageSeconds),
      labels,
      annotations: {
        'deployment.kubernetes.io/desired-replicas': String(o.replicas),
        'deployment.kubernetes.io/max-replicas': String(o.replicas + Math.ceil(o.replicas / 4)),
        'deployment.kubernetes.io/revision': '1',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: o.app,
          uid: rng.uuid(),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: labels },
      template: podTemplate(labels, o.shape),
    },
    status: {
      replicas: o.replicas,
      fullyLabeledReplicas: o.replicas,
      readyReplicas: o.replicas,
      availableReplicas: o.replicas,
      observedGeneration: 1,
    },
  };
}

/** Options of {@link makeJob}. */
export interface MakeJobOptions {
  namespace: string;
  name: string;
  shape: PodShape;
  completions: number;
  now: Date;
  ageSeconds: number;
  /** Pod counts by outcome (sets the Job's status). */
  active: number;
  succeeded: number;
  failed: number;
}

/** A batch/v1 Job; Complete when `succeeded` reaches `completions`. */
export function makeJob(rng: Rng, o: MakeJobOptions): KubeObject {
  const uid = rng.uuid();
  const labels = {
    'batch.kubernetes.io/job-name': o.name,
    'job-name': o.name,
    'batch.kubernetes.io/controller-uid': uid,
  };
  const start = secondsBefore(o.now, o.ageSeconds);
  const complete = o.succeeded >= o.completions;
  const status: JsonObject = { startTime: start, ready: 0, terminating: 0, uncountedTerminatedPods: {} };
  if (o.active > 0) status['active'] = o.active;
  if (o.succeeded > 0) status['succeeded'] = o.succeeded;
  if (o.failed > 0) status['failed'] = o.failed;
  if (complete) {
    const done = secondsBefore(o.now, Math.floor(o.ageSeconds / 2));
    status['completionTime'] = done;
    status['conditions'] = [
      {
        type: 'SuccessCriteriaMet',
        status: 'True',
        lastProbeTime: done,
        lastTransitionTime: done,
        reason: 'CompletionsReached',
        message: 'Reached expected number of succeeded pods',
      },
      {
        type: 'Complete',
        status: 'True',
        lastProbeTime: done,
        lastTransitionTime: done,
        reason: 'CompletionsReached',
        message: 'Reached expected number of succeeded pods',
      },
    ];
  }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      uid,
      resourceVersion: '1',
      generation: 1,
      creationTimestamp: start,
      labels,
    },
    spec: {
      completions: o.completions,
      parallelism: o.completions,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      template: podTemplate(labels, o.shape, { restartPolicy: 'Never' }),
    },
    status,
  };
}
