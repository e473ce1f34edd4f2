import { ApiStatusError, OPTIMISTIC_LOCK_MESSAGE, statusErrors } from '../api/api-status.js';
import type { JsonObject, KubeObject, StoredKind } from '../api/kube-object.js';
import { semanticallyEqual } from '../api/semantic-equal.js';
import { resourceOfKind } from '../resource-registry.js';
import { ClusterStore } from '../store/cluster-store.js';
import { objectKey } from '../store/kind-store.js';
import { NodeSnapshotIndex } from '../store/node-snapshot-index.js';
import { PodAllocationIndex } from '../store/pod-allocation-index.js';
import { PodsPerNodeCount } from '../store/pods-per-node-count.js';
import { PodsByNodeIndex } from '../store/pods-by-node-index.js';
import { ObjectExistsError, ObjectNotFoundError } from '../store/store-errors.js';
import { rfc3339, systemClock, type Clock } from './clock.js';
import { disruptionVerdict } from './disruption-budget.js';
import { validateObject } from './object-validation.js';
import type { Rng } from '../world/rng.js';
import { randomNameSuffix } from './sim-random.js';
import { TaskQueue } from './task-queue.js';

/** Names drawn for one create from `generateName` before a collision is answered 409 (upstream: 8). */
const GENERATE_NAME_ATTEMPTS = 8;

/** Timings of the simulated kubelets and controllers. */
export interface KubeletTimings {
  /** From a pod's binding to Running. Default 500 ms. */
  startupMs?: number;
  /**
   * How long a terminating pod takes to go away, at most its grace period (real
   * containers usually stop well before the grace period ends). Default 1,000 ms.
   */
  stopMs?: number;
  /** Delay before the scheduler binds a new pending pod. Default 10 ms. */
  scheduleDelayMs?: number;
}

/** Options of {@link Cluster}. */
export interface ClusterOptions {
  /** The seeded randomness (required: determinism depends on it; never `Math.random`). */
  random: Rng;
  /** Default: the wall clock. */
  clock?: Clock;
  /** Change log size (see ClusterStoreOptions). Default 100,000. */
  changeLogSize?: number;
  kubelet?: KubeletTimings;
  /** Called with errors thrown by simulated controllers (the simulation carries on). Default: ignore. */
  onError?: (err: unknown) => void;
}

/** DeleteOptions that kube-sim honours. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** The result of a delete: the object as last stored, and whether it is gone already. */
export interface DeleteResult {
  object: KubeObject;
  /** False while a pod is terminating (it goes away after its grace period). */
  gone: boolean;
}

const NAMESPACED: ReadonlySet<StoredKind> = new Set([
  'Pod',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'PodDisruptionBudget',
  'Lease',
  'Event',
]);

/**
 * One simulated cluster: the store, the API semantics of writes (defaults,
 * validation, optimistic concurrency, graceful pod deletion, eviction with
 * disruption budgets) and the simulated time in which controllers, kubelets, churn
 * and heartbeats act.
 *
 * Time: every simulated action is a task in a queue ordered by (due time,
 * insertion order). {@link runDue} runs the tasks due by the clock, each seeing
 * `now()` equal to its own due time, so the sequence of changes depends only on
 * the seed, the clock readings and the API calls made, not on timer jitter.
 * Controllers react to store changes by scheduling tasks, never by writing inside a
 * change listener, so watchers always see changes in resourceVersion order.
 */
export class Cluster {
  readonly store: ClusterStore;
  readonly podCounts = new PodsPerNodeCount();
  /** Each node's summed pod requests and limits (what `/_sim/truth` reports as `allocation`). */
  readonly allocation = new PodAllocationIndex();
  /** The pods bound to each node (pod garbage collection of a removed node). */
  readonly podsByNode = new PodsByNodeIndex();
  /** Each node's snapshot as of its last change that mattered (what `/_sim/truth` reports). */
  readonly nodeSnapshots = new NodeSnapshotIndex();
  readonly clock: Clock;
  readonly random: Rng;
  readonly timings: Required<KubeletTimings>;
  private readonly queue = new TaskQueue();
  private readonly onError: (err: unknown) => void;
  private currentTaskTime: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pausedFlag = false;
  private readonly pauseListeners = new Set<(paused: boolean) => void>();

  constructor(options: ClusterOptions) {
    this.random = options.random;
    this.clock = options.clock ?? systemClock;
    this.onError = options.onError ?? (() => undefined);
    this.timings = {
      startupMs: options.kubelet?.startupMs ?? 500,
      stopMs: options.kubelet?.stopMs ?? 1_000,
      scheduleDelayMs: options.kubelet?.scheduleDelayMs ?? 10,
    };
    this.store = new ClusterStore({ changeLogSize: options.changeLogSize, onListenerError: this.onError });
    this.store.subscribe((event) => {
      this.podCounts.apply(event);
      this.allocation.apply(event);
      this.podsByNode.apply(event);
      this.nodeSnapshots.apply(event);
    });
  }

  /** Simulated now in ms: the running task's due time, else the clock. */
  now(): number {
    return this.currentTaskTime ?? this.clock.now();
  }

  /** Loads initial objects (not logged; see ClusterStore.load) and rebuilds the pod and node indexes. */
  load(kind: StoredKind, objects: Iterable<KubeObject>): void {
    this.store.load(kind, objects);
    if (kind === 'Pod') {
      this.podCounts.rebuild(this.store.kind('Pod').values());
      this.allocation.rebuild(this.store.kind('Pod').values());
      this.podsByNode.rebuild(this.store.kind('Pod').values());
    }
    if (kind === 'Node') this.nodeSnapshots.rebuild(this.store.kind('Node').values());
  }

  // ----------------------------------------------------------------------------------------
  // Simulated time

  /** Schedules `run` in `delayMs` of simulated time. */
  schedule(delayMs: number, run: () => void): void {
    this.queue.schedule(this.now() + Math.max(0, delayMs), run);
  }

  /** Schedules `run` at the absolute simulated time `due`. */
  scheduleAt(due: number, run: () => void): void {
    this.queue.schedule(due, run);
  }

  /** Number of pending simulated tasks. */
  get pendingTasks(): number {
    return this.queue.size;
  }

  /**
   * Runs every task due by the clock (in order); does nothing while paused. Returns how many ran.
   * With `budgetMs`, stops once that much wall time has been spent (the rest stays queued, in
   * order, for the next call): what keeps the event loop serving HTTP when the simulation
   * cannot keep up with its clock.
   */
  runDue(budgetMs?: number): number {
    if (this.pausedFlag) return 0;
    const limit = this.clock.now();
    const deadline = budgetMs === undefined ? Infinity : performance.now() + budgetMs;
    let ran = 0;
    for (let task = this.queue.popDue(limit); task !== undefined; task = this.queue.popDue(limit)) {
      this.currentTaskTime = task.due;
      try {
        task.run();
      } catch (err) {
        this.onError(err);
      } finally {
        this.currentTaskTime = undefined;
      }
      ran++;
      if (this.pausedFlag || performance.now() >= deadline) break;
    }
    return ran;
  }

  /**
   * Runs {@link runDue} every `tickMs` of wall time until {@link stop}, each run spending at
   * most `sliceMs` (default 20 ms) of wall time so requests are served between runs.
   */
  start(tickMs = 10, sliceMs = 20): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.runDue(sliceMs), tickMs);
    this.timer.unref();
  }

  /** Whether simulated time runs on the timer of {@link start} (rather than manual {@link runDue} calls). */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** How far the running task's simulated time is behind the clock, in ms (0 outside tasks). */
  get lagMs(): number {
    return this.currentTaskTime === undefined ? 0 : Math.max(0, this.clock.now() - this.currentTaskTime);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  /** Stops all simulated change (controllers, churn, heartbeats) until {@link resume}. */
  pause(): void {
    if (this.pausedFlag) return;
    this.pausedFlag = true;
    for (const l of this.pauseListeners) l(true);
  }

  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    for (const l of this.pauseListeners) l(false);
  }

  /** Registers a listener for pause/resume (churn and heartbeats re-plan on resume). */
  onPauseChange(listener: (paused: boolean) => void): void {
    this.pauseListeners.add(listener);
  }

  // ----------------------------------------------------------------------------------------
  // API semantics

  /**
   * Creates an object as the API server would: name from `generateName`, uid,
   * creationTimestamp, kind defaults (a new pod is Pending with no status from the
   * client), validation (422), the namespace must exist (404), unique key (409).
   * A generated name that is taken is drawn again, up to {@link GENERATE_NAME_ATTEMPTS}
   * times in all, as the API server does since 1.30 (RetryGenerateName): 5 random
   * characters collide often enough at a few thousand pods of one DaemonSet.
   */
  createObject(kind: StoredKind, body: KubeObject): KubeObject {
    const generated = !body.metadata?.name && !!body.metadata?.generateName;
    for (let attempt = 1; ; attempt++) {
      try {
        return this.createOnce(kind, body);
      } catch (err) {
        if (!generated || !(err instanceof ObjectExistsError) || attempt >= GENERATE_NAME_ATTEMPTS) throw err;
      }
    }
  }

  private createOnce(kind: StoredKind, body: KubeObject): KubeObject {
    const meta = { ...(body.metadata ?? {}) } as KubeObject['metadata'];
    if (!meta.name) {
      if (!meta.generateName) {
        throw statusErrors.invalid(kind, '', [
          {
            reason: 'FieldValueRequired',
            field: 'metadata.name',
            message: 'Required value: name or generateName is required',
          },
        ]);
      }
      meta.name = `${meta.generateName}${randomNameSuffix(this.random)}`;
    }
    if (NAMESPACED.has(kind)) {
      const ns = meta.namespace ?? 'default';
      meta.namespace = ns;
      if (!this.store.get('Namespace', ns)) throw statusErrors.notFound('namespaces', ns);
    } else {
      delete meta.namespace;
    }
    meta.uid = this.random.uuid();
    meta.creationTimestamp = rfc3339(this.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    meta.resourceVersion = '';
    const object: KubeObject = { ...body, kind, metadata: meta };
    if (kind === 'Pod') {
      object.spec = { ...(body.spec ?? {}) };
      object.status = { phase: 'Pending', qosClass: 'BestEffort' };
    }
    if (kind === 'Namespace') {
      // The NamespaceAutoLabel admission: every namespace carries its name as a label.
      meta.labels = { ...(meta.labels ?? {}), 'kubernetes.io/metadata.name': meta.name };
      object.spec = { finalizers: ['kubernetes'] };
      object.status = { phase: 'Active' };
    }
    validateObject(object);
    return this.store.create(kind, object);
  }

  /**
   * Replaces an object (PUT). The main resource keeps the stored status; the
   * `status` subresource keeps everything but the status. Identity fields (uid,
   * creationTimestamp, deletion fields) always come from the stored object. A
   * non-empty `metadata.resourceVersion` must match (409 Conflict otherwise). An
   * update that changes nothing once decoded (same fields and values, in any key
   * order, see semanticallyEqual) is not written (no new version, no event), as upstream.
   */
  replaceObject(kind: StoredKind, key: string, body: KubeObject, subresource?: 'status'): KubeObject {
    const current = this.store.get(kind, key);
    const def = resourceOfKind(kind);
    if (current === undefined) throw new ObjectNotFoundError(kind, key);
    const name = current.metadata.name;
    if (body.metadata?.name !== undefined && body.metadata.name !== name) {
      throw statusErrors.badRequest(
        `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const expectedRv = body.metadata?.resourceVersion;
    let next: KubeObject;
    if (subresource === 'status') {
      next = { ...current, status: (body.status ?? {}) as JsonObject };
    } else {
      next = {
        ...body,
        kind: current.kind,
        apiVersion: current.apiVersion,
        metadata: {
          ...(body.metadata ?? {}),
          name,
          uid: current.metadata.uid,
          creationTimestamp: current.metadata.creationTimestamp,
          resourceVersion: current.metadata.resourceVersion,
        },
      };
      if (current.metadata.namespace !== undefined) next.metadata.namespace = current.metadata.namespace;
      else delete next.metadata.namespace;
      delete next.metadata.deletionTimestamp;
      delete next.metadata.deletionGracePeriodSeconds;
      if (current.metadata.deletionTimestamp !== undefined) {
        next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
      }
      if (current.metadata.deletionGracePeriodSeconds !== undefined) {
        next.metadata.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
      }
      if (current.status !== undefined) next.status = current.status;
      else delete next.status;
    }
    validateObject(next);
    if (expectedRv !== undefined && expectedRv !== '' && expectedRv !== current.metadata.resourceVersion) {
      throw statusErrors.conflict(def.plural, name, OPTIMISTIC_LOCK_MESSAGE, def.group || undefined);
    }
    if (semanticallyEqual(next as unknown as JsonObject, current as unknown as JsonObject)) return current;
    return this.store.update(kind, next);
  }

  /** Writes `next` (a full object derived from the stored one) without API checks: for controllers. */
  write(kind: StoredKind, next: KubeObject): KubeObject {
    return this.store.update(kind, next);
  }

  /**
   * Deletes an object. Pods bound to a node and not terminated are deleted
   * gracefully: `deletionTimestamp` is set (MODIFIED) and the pod goes away after
   * min(grace period, kubelet stop time) (DELETED); a grace period of 0, an
   * unbound pod or a finished one goes at once. Preconditions that do not match
   * answer 409 Conflict.
   */
  deleteObject(kind: StoredKind, key: string, options: DeleteOptions = {}): DeleteResult {
    const current = this.store.get(kind, key);
    if (current === undefined) throw new ObjectNotFoundError(kind, key);
    const pre = options.preconditions;
    const { plural } = resourceOfKind(kind);
    if (pre?.uid !== undefined && pre.uid !== current.metadata.uid) {
      throw statusErrors.conflict(
        plural,
        current.metadata.name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw statusErrors.conflict(
        plural,
        current.metadata.name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
      );
    }
    if (kind === 'Namespace') return this.deleteNamespace(current);
    if (kind !== 'Pod') {
      const object = this.store.delete(kind, key);
      if (kind === 'Node') this.schedule(0, () => this.collectPodsOf(current.metadata.name));
      return { object, gone: true };
    }
    return this.deletePod(current, options.gracePeriodSeconds);
  }

  /**
   * Namespace deletion, condensed: the namespace turns Terminating (MODIFIED with
   * deletionTimestamp and phase Terminating), everything in it is deleted, then
   * the namespace itself, all in one simulated step.
   */
  private deleteNamespace(ns: KubeObject): DeleteResult {
    const name = ns.metadata.name;
    const terminating = this.store.update('Namespace', {
      ...ns,
      metadata: { ...ns.metadata, deletionTimestamp: rfc3339(this.now()) },
      status: { ...(ns.status ?? {}), phase: 'Terminating' },
    });
    this.schedule(0, () => {
      for (const kind of NAMESPACED) {
        for (const object of this.store.kind(kind).sorted(`${name}/`))
          this.store.delete(kind, objectKey(object));
      }
      if (this.store.get('Namespace', name)) this.store.delete('Namespace', name);
    });
    return { object: terminating, gone: false };
  }

  private deletePod(pod: KubeObject, requestedGrace: number | undefined): DeleteResult {
    const key = objectKey(pod);
    const specGrace = pod.spec?.['terminationGracePeriodSeconds'];
    const grace = Math.max(0, requestedGrace ?? (typeof specGrace === 'number' ? specGrace : 30));
    const phase = pod.status?.['phase'];
    const bound = typeof pod.spec?.['nodeName'] === 'string' && pod.spec['nodeName'] !== '';
    if (grace === 0 || !bound || phase === 'Succeeded' || phase === 'Failed') {
      return { object: this.store.delete('Pod', key), gone: true };
    }
    if (pod.metadata.deletionTimestamp !== undefined) return { object: pod, gone: false };
    const now = this.now();
    const terminating = this.store.update('Pod', {
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: rfc3339(now + grace * 1000),
        deletionGracePeriodSeconds: grace,
      },
    });
    const uid = pod.metadata.uid;
    this.schedule(Math.min(grace * 1000, this.timings.stopMs), () => {
      const still = this.store.get('Pod', key);
      if (still && still.metadata.uid === uid) this.store.delete('Pod', key);
    });
    return { object: terminating, gone: false };
  }

  /** Pod garbage collection: pods bound to a node that no longer exists are deleted at once. */
  private collectPodsOf(nodeName: string): void {
    if (this.store.get('Node', nodeName)) return;
    for (const key of this.podsByNode.keysOf(nodeName)) this.store.delete('Pod', key);
  }

  /**
   * Evicts a pod (policy/v1 Eviction): 429 TooManyRequests with the API server's
   * message when a PodDisruptionBudget would be violated, else a graceful delete.
   */
  evictPod(namespace: string, name: string, options: DeleteOptions = {}): void {
    const key = `${namespace}/${name}`;
    const pod = this.store.get('Pod', key);
    if (pod === undefined) throw statusErrors.notFound('pods', name);
    if (pod.metadata.deletionTimestamp !== undefined) return;
    const verdict = disruptionVerdict(this.store, pod);
    if (verdict !== undefined) {
      throw new ApiStatusError(
        429,
        'TooManyRequests',
        "Cannot evict pod as it would violate the pod's disruption budget.",
        {
          causes: [{ reason: 'DisruptionBudget', message: verdict }],
        },
      );
    }
    this.deleteObject('Pod', key, options);
  }
}
