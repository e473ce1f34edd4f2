import type { JsonObject, KubeObject } from '../api/kube-object.js';
import { makeNode } from '../world/node-factory.js';
import { objectKey } from '../store/kind-store.js';
import { rfc3339 } from './clock.js';
import type { Cluster } from './cluster.js';
import { fits, isSchedulableNode, replacementPod, type PodControllers } from './pod-controllers.js';
import { hasRoomFor } from './resource-fit.js';
import { podTotals } from '../store/pod-totals.js';
import { controllerOf, finishedPod } from './pod-status.js';
import { randomBetween, randomChance, randomIndex, randomNameSuffix } from './sim-random.js';

/** Options of {@link Churn}. */
export interface ChurnOptions {
  /** Names new nodes' `cluster` label. */
  clusterName: string;
  /** Kubelet minor version of added nodes. Default 32. */
  kubernetesMinor?: number;
  /** The pod population churn keeps close to. Default: the pods at construction. */
  targetPods?: number;
  /** The node population churn keeps close to. Default: the nodes at construction. */
  targetNodes?: number;
  /**
   * While the cluster runs on its timer, how far (ms) churn may fall behind the clock
   * before it drops the events it missed instead of running them in a burst. Default 1,000.
   */
  maxLagMs?: number;
}

type ChurnOp = 'create' | 'delete' | 'move' | 'complete' | 'gc' | 'flap' | 'addNode' | 'removeNode';

/**
 * Random but deterministic cluster activity at a given rate (events per second of
 * simulated time): pods created, deleted (ReplicaSets replace theirs), moved
 * (deleted and recreated on another node), Job pods completed (Succeeded/Failed)
 * and garbage-collected, nodes flapping NotReady and back, nodes added and removed.
 * Populations stay near their targets. Every choice comes from the cluster's seeded
 * randomness, so the same seed and the same calls give the same cluster.
 */
export class Churn {
  private currentRate = 0;
  private generation = 0;
  private count = 0;
  private dropped = 0;
  private added = 0;
  private readonly targetPods: number;
  private readonly targetNodes: number;

  constructor(
    private readonly cluster: Cluster,
    private readonly controllers: PodControllers,
    private readonly options: ChurnOptions,
  ) {
    this.targetPods = options.targetPods ?? cluster.store.kind('Pod').size;
    this.targetNodes = options.targetNodes ?? cluster.store.kind('Node').size;
    cluster.onPauseChange((paused) => {
      if (!paused) this.plan();
    });
  }

  /** Events per second (0 = off). */
  get rate(): number {
    return this.currentRate;
  }

  /** Churn events run so far. */
  get events(): number {
    return this.count;
  }

  /**
   * Churn events dropped because the simulation could not keep up with the rate (the rate
   * achieved is `events` over time; the dropped ones are never run later in a burst).
   */
  get droppedEvents(): number {
    return this.dropped;
  }

  /** Changes the rate; takes effect at once (the next event is planned from now). */
  setRate(rate: number): void {
    this.currentRate = Math.max(0, rate);
    this.plan();
  }

  /** Runs `n` churn events now (their follow-ups, such as a pod starting, happen in simulated time). */
  step(n: number): void {
    for (let i = 0; i < n; i++) this.once();
  }

  private plan(): void {
    const generation = ++this.generation;
    if (this.currentRate <= 0) return;
    const interval = 1000 / this.currentRate;
    const maxLagMs = this.options.maxLagMs ?? 1_000;
    const tick = (): void => {
      if (generation !== this.generation || this.cluster.paused) return;
      this.once();
      const lag = this.cluster.lagMs;
      if (this.cluster.running && lag > maxLagMs) {
        // Behind the clock by more than maxLagMs: skip to now rather than queue the backlog.
        const missed = Math.floor(lag / interval);
        this.dropped += missed;
        this.cluster.schedule(missed * interval + interval, tick);
        return;
      }
      this.cluster.schedule(interval, tick);
    };
    this.cluster.schedule(interval, tick);
  }

  /** Runs one churn event. */
  once(): void {
    this.count++;
    const op = this.pickOp();
    switch (op) {
      case 'create':
        return this.createPod();
      case 'delete':
        return this.deletePod();
      case 'move':
        return this.movePod();
      case 'complete':
        return this.completePod();
      case 'gc':
        return this.collectPod();
      case 'flap':
        return this.flapNode();
      case 'addNode':
        return this.addNode();
      case 'removeNode':
        return this.removeNode();
    }
  }

  private pickOp(): ChurnOp {
    const pods = this.cluster.store.kind('Pod').size;
    const nodes = this.cluster.store.kind('Node').size;
    const weights: [ChurnOp, number][] = [
      ['create', pods < this.targetPods ? 30 : 12],
      ['delete', pods > this.targetPods ? 30 : 12],
      ['move', 10],
      ['complete', 16],
      ['gc', 16],
      ['flap', 4],
      ['addNode', nodes < this.targetNodes ? 4 : 1],
      ['removeNode', nodes > this.targetNodes ? 4 : nodes > 1 ? 1 : 0],
    ];
    const total = weights.reduce((sum, [, w]) => sum + w, 0);
    let r = this.cluster.random.next() * total;
    for (const [op, w] of weights) {
      if (r < w) return op;
      r -= w;
    }
    return 'create';
  }

  /** A random pod satisfying `accept`, trying a few times. */
  private randomPod(accept: (pod: KubeObject) => boolean, tries = 8): KubeObject | undefined {
    const pods = this.cluster.store.kind('Pod');
    for (let i = 0; i < tries && pods.size > 0; i++) {
      const key = pods.keyAt(randomIndex(this.cluster.random, pods.size));
      const pod = key === undefined ? undefined : pods.get(key);
      if (pod && accept(pod)) return pod;
    }
    return undefined;
  }

  private createPod(): void {
    const template = this.randomPod((p) => {
      const kind = controllerOf(p)?.kind;
      return kind === 'ReplicaSet' || kind === 'Job';
    });
    if (!template) return;
    const owner = controllerOf(template);
    const base = owner?.name ?? template.metadata.name.replace(/-[a-z0-9]{5}$/, '');
    this.cluster.createObject('Pod', replacementPod(template, base));
  }

  private deletePod(): void {
    const pod = this.randomPod((p) => {
      const kind = controllerOf(p)?.kind;
      return kind !== 'DaemonSet' && kind !== 'Node' && p.metadata.deletionTimestamp === undefined;
    });
    if (!pod) return;
    // Above the target population a delete is a scale-down (no replacement); below it,
    // a ReplicaSet replaces its pod, as after any other deletion.
    if (this.cluster.store.kind('Pod').size > this.targetPods)
      this.controllers.skipReplacement(pod.metadata.uid);
    this.cluster.deleteObject('Pod', objectKey(pod));
  }

  private movePod(): void {
    const pod = this.randomPod(
      (p) =>
        controllerOf(p)?.kind === 'ReplicaSet' &&
        p.status?.['phase'] === 'Running' &&
        p.metadata.deletionTimestamp === undefined,
    );
    if (!pod) return;
    const from = String(pod.spec?.['nodeName'] ?? '');
    const requests = podTotals(pod).requests;
    const nodes = this.controllers
      .schedulableNodes()
      .filter(
        (n) => n.metadata.name !== from && fits(pod, n) && hasRoomFor(requests, n, this.cluster.allocation),
      );
    if (nodes.length === 0) return;
    const target = nodes[randomIndex(this.cluster.random, nodes.length)] as KubeObject;
    this.controllers.skipReplacement(pod.metadata.uid);
    this.cluster.deleteObject('Pod', objectKey(pod));
    const moved = replacementPod(pod, controllerOf(pod)?.name ?? pod.metadata.name);
    moved.spec = { ...(moved.spec ?? {}), nodeName: target.metadata.name };
    this.cluster.createObject('Pod', moved);
  }

  private completePod(): void {
    const pod = this.randomPod(
      (p) =>
        controllerOf(p)?.kind === 'Job' &&
        p.status?.['phase'] === 'Running' &&
        p.metadata.deletionTimestamp === undefined,
      16,
    );
    if (pod)
      this.cluster.write(
        'Pod',
        finishedPod(pod, !randomChance(this.cluster.random, 0.1), this.cluster.now()),
      );
  }

  private collectPod(): void {
    const pod = this.randomPod(
      (p) => p.status?.['phase'] === 'Succeeded' || p.status?.['phase'] === 'Failed',
      16,
    );
    if (pod) this.cluster.deleteObject('Pod', objectKey(pod), { gracePeriodSeconds: 0 });
  }

  private flapNode(): void {
    const nodes = this.cluster.store.kind('Node');
    if (nodes.size === 0) return;
    const key = nodes.keyAt(randomIndex(this.cluster.random, nodes.size));
    const node = key === undefined ? undefined : nodes.get(key);
    if (!node || !isSchedulableNode(node) || isControlPlane(node)) return;
    this.cluster.write('Node', withReady(node, false, this.cluster.now()));
    const downFor = randomBetween(this.cluster.random, 5_000, 30_000);
    const uid = node.metadata.uid;
    this.cluster.schedule(downFor, () => {
      const current = this.cluster.store.get('Node', node.metadata.name);
      if (current && current.metadata.uid === uid)
        this.cluster.write('Node', withReady(current, true, this.cluster.now()));
    });
  }

  private addNode(): void {
    const random = this.cluster.random;
    const nodes = this.cluster.store.kind('Node').sorted();
    const zones = [
      ...new Set(
        nodes.map((n) => n.metadata.labels?.['topology.kubernetes.io/zone']).filter((z): z is string => !!z),
      ),
    ];
    const zone = zones.length > 0 ? (zones[randomIndex(random, zones.length)] as string) : 'eu-west-1a';
    const index = 60_000 + (this.added++ % 4_000);
    const name = `${this.options.clusterName}-worker-${randomNameSuffix(random, 6)}`;
    if (this.cluster.store.get('Node', name)) return;
    const node = makeNode(random, {
      name,
      role: 'worker',
      gpu: randomChance(random, 0.05),
      zone,
      now: new Date(this.cluster.now()),
      clusterName: this.options.clusterName,
      kubernetesMinor: this.options.kubernetesMinor ?? 32,
      index,
      ageSeconds: 0,
    });
    this.cluster.createObject('Node', node);
  }

  private removeNode(): void {
    const nodes = this.cluster.store.kind('Node');
    if (nodes.size <= 1) return;
    const key = nodes.keyAt(randomIndex(this.cluster.random, nodes.size));
    const node = key === undefined ? undefined : nodes.get(key);
    if (!node || isControlPlane(node) || scaleDownDisabled(node)) return;
    this.cluster.deleteObject('Node', node.metadata.name);
  }
}

/** The cluster autoscaler's opt-out: it never removes a node annotated so; neither does churn. */
export const SCALE_DOWN_DISABLED_ANNOTATION = 'cluster-autoscaler.kubernetes.io/scale-down-disabled';

function scaleDownDisabled(node: KubeObject): boolean {
  return node.metadata.annotations?.[SCALE_DOWN_DISABLED_ANNOTATION] === 'true';
}

function isControlPlane(node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  return 'node-role.kubernetes.io/control-plane' in labels || 'node-role.kubernetes.io/master' in labels;
}

/**
 * The node with its Ready condition set as its kubelet posts it (transition time
 * now); the node lifecycle controller then adds or removes the not-ready taints.
 */
export function withReady(node: KubeObject, ready: boolean, now: number): KubeObject {
  const at = rfc3339(now);
  const conditions = Array.isArray(node.status?.['conditions'])
    ? (node.status['conditions'] as JsonObject[])
    : [];
  const nextConditions = conditions.map((c) =>
    c['type'] === 'Ready'
      ? {
          ...c,
          status: ready ? 'True' : 'False',
          reason: ready ? 'KubeletReady' : 'KubeletNotReady',
          message: ready
            ? 'kubelet is posting ready status'
            : 'container runtime network not ready: NetworkReady=false',
          lastHeartbeatTime: at,
          lastTransitionTime: at,
        }
      : c,
  );
  return { ...node, status: { ...(node.status ?? {}), conditions: nextConditions } };
}
