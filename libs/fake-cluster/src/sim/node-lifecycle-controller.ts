import type { JsonObject, JsonValue, KubeObject } from '../api/kube-object.js';
import type { StoredChange } from '../store/change-log.js';
import { rfc3339 } from './clock.js';
import type { Cluster } from './cluster.js';
import type { EventRecorder } from './event-recorder.js';
import { readyStatus, unknownConditions } from './node-conditions.js';
import type { NodeLeases } from './node-leases.js';

/** The taint of a cordoned node. */
export const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';
/** The taint of a node whose Ready condition is False. */
export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
/** The taint of a node whose Ready condition is Unknown (its kubelet stopped posting). */
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';

const MANAGED = new Set([UNSCHEDULABLE_TAINT, NOT_READY_TAINT, UNREACHABLE_TAINT]);

/** Options of {@link NodeLifecycleController}. */
export interface NodeLifecycleOptions {
  /** How often node leases are checked, ms (the controller's node monitor period). Default 5,000. */
  monitorPeriodMs?: number;
  /** How long a lease may go unrenewed before the node turns Unknown, ms (node monitor grace period). Default 40,000. */
  gracePeriodMs?: number;
}

function isRecord(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The taints the node lifecycle controller wants on `node`, or undefined when they
 * are already there: `unschedulable:NoSchedule` while cordoned, `not-ready`
 * NoSchedule + NoExecute while Ready is False, `unreachable` NoSchedule + NoExecute
 * while it is Unknown. Other taints are kept as they are; added ones carry `timeAdded`.
 */
export function lifecycleTaints(node: KubeObject, now: number): JsonObject[] | undefined {
  const wanted: { key: string; effect: string }[] = [];
  if (node.spec?.['unschedulable'] === true) wanted.push({ key: UNSCHEDULABLE_TAINT, effect: 'NoSchedule' });
  const ready = readyStatus(node);
  const condition = ready === 'False' ? NOT_READY_TAINT : ready === 'Unknown' ? UNREACHABLE_TAINT : undefined;
  if (condition !== undefined) {
    wanted.push({ key: condition, effect: 'NoSchedule' }, { key: condition, effect: 'NoExecute' });
  }
  const existing = Array.isArray(node.spec?.['taints']) ? node.spec['taints'].filter(isRecord) : [];
  const same = (t: JsonObject, w: { key: string; effect: string }) =>
    t['key'] === w.key && t['effect'] === w.effect;
  const kept = existing.filter((t) => !MANAGED.has(String(t['key'])) || wanted.some((w) => same(t, w)));
  const added = wanted
    .filter((w) => !existing.some((t) => same(t, w)))
    .map((w) => ({ key: w.key, effect: w.effect, timeAdded: rfc3339(now) }));
  if (added.length === 0 && kept.length === existing.length) return undefined;
  return [...kept, ...added];
}

function transitioned(node: KubeObject, previous: KubeObject): boolean {
  return (
    (node.spec?.['unschedulable'] === true) !== (previous.spec?.['unschedulable'] === true) ||
    readyStatus(node) !== readyStatus(previous)
  );
}

/**
 * The simulated node lifecycle controller (with the kubelet's node events):
 * - taints nodes from their state ({@link lifecycleTaints}) right after the change,
 *   as the controller's TaintNodesByCondition does;
 * - every `monitorPeriodMs`, marks a node whose lease was not renewed for
 *   `gracePeriodMs` Unknown (every condition), which brings the unreachable taints;
 * - records the Events a real cluster shows in `kubectl describe node`: the
 *   kubelet's NodeNotSchedulable / NodeSchedulable / NodeNotReady / NodeReady and the
 *   controller's RegisteredNode and NodeNotReady ("Node is not ready").
 * Writes happen in simulated tasks, never inside the change listener.
 */
export class NodeLifecycleController {
  private readonly dirty = new Set<string>();
  private passScheduled = false;
  private readonly monitorPeriodMs: number;
  private readonly gracePeriodMs: number;
  private generation = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly leases: NodeLeases,
    private readonly events: EventRecorder,
    options: NodeLifecycleOptions = {},
  ) {
    this.monitorPeriodMs = options.monitorPeriodMs ?? 5_000;
    this.gracePeriodMs = options.gracePeriodMs ?? 40_000;
    cluster.store.subscribe((event) => this.onChange(event));
    cluster.onPauseChange((paused) => {
      if (!paused) this.startMonitor();
    });
  }

  /** Starts checking leases (leases renewed at all: without renewals no node would stay Ready). */
  startMonitor(): void {
    const generation = ++this.generation;
    if (this.leases.renewSeconds <= 0) return;
    const step = (): void => {
      if (generation !== this.generation || this.cluster.paused) return;
      this.monitor();
      this.cluster.schedule(this.monitorPeriodMs, step);
    };
    this.cluster.schedule(this.monitorPeriodMs, step);
  }

  private onChange(event: StoredChange): void {
    if (event.kind !== 'Node' || event.type === 'DELETED') return;
    const node = event.object;
    const previous = event.previous;
    // Heartbeats change neither: only transitions cost a task.
    if (previous === undefined || transitioned(node, previous)) {
      this.cluster.schedule(0, () => this.recordTransitions(node, previous));
    }
    if (lifecycleTaints(node, this.cluster.now()) === undefined) return;
    this.dirty.add(event.key);
    if (this.passScheduled) return;
    this.passScheduled = true;
    this.cluster.schedule(0, () => this.pass());
  }

  private pass(): void {
    this.passScheduled = false;
    const now = this.cluster.now();
    for (const name of [...this.dirty].sort()) {
      this.dirty.delete(name);
      const node = this.cluster.store.get('Node', name);
      if (node === undefined) continue;
      const taints = lifecycleTaints(node, now);
      if (taints === undefined) continue;
      const spec: JsonObject = { ...(node.spec ?? {}) };
      if (taints.length > 0) spec['taints'] = taints;
      else delete spec['taints'];
      this.cluster.write('Node', { ...node, spec });
    }
  }

  private monitor(): void {
    const now = this.cluster.now();
    for (const node of this.cluster.store.kind('Node').sorted()) {
      const renewed = this.leases.renewedAt(node.metadata.name);
      if (renewed === undefined || now - renewed <= this.gracePeriodMs) continue;
      if (readyStatus(node) === 'Unknown') continue;
      this.cluster.write('Node', unknownConditions(node, now));
    }
  }

  private recordTransitions(node: KubeObject, previous: KubeObject | undefined): void {
    const name = node.metadata.name;
    const kubelet = { component: 'kubelet', host: name };
    if (previous === undefined) {
      this.events.record(
        node,
        'Normal',
        'RegisteredNode',
        `Node ${name} event: Registered Node ${name} in Controller`,
        {
          component: 'node-controller',
        },
      );
      return;
    }
    const cordoned = node.spec?.['unschedulable'] === true;
    if (cordoned !== (previous.spec?.['unschedulable'] === true)) {
      const status = cordoned ? 'NodeNotSchedulable' : 'NodeSchedulable';
      this.events.record(node, 'Normal', status, `Node ${name} status is now: ${status}`, kubelet);
    }
    const ready = readyStatus(node);
    if (ready === readyStatus(previous)) return;
    if (ready === 'Unknown') {
      this.events.record(node, 'Normal', 'NodeNotReady', 'Node is not ready', {
        component: 'node-controller',
      });
    } else if (ready === 'True' || ready === 'False') {
      const status = ready === 'True' ? 'NodeReady' : 'NodeNotReady';
      this.events.record(node, 'Normal', status, `Node ${name} status is now: ${status}`, kubelet);
    }
  }
}
