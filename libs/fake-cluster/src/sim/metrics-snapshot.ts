import type { JsonObject, KubeObject } from '../api/kube-object.js';
import { formatGoDuration } from '../api/metrics-format.js';
import { objectKey } from '../store/kind-store.js';
import { rfc3339 } from './clock.js';
import type { Cluster } from './cluster.js';
import { containerUsage, systemUsage, usageKey, type Usage } from './usage-model.js';

/** Options of {@link MetricsSnapshot}. */
export interface MetricsSnapshotOptions {
  /** Seeds the usage model. */
  seed: number;
  /** Seconds between two snapshots (metrics-server's `--metric-resolution`). Default 15. */
  resolutionSeconds?: number;
}

/** A container's usage in a pod's metrics. */
export interface ContainerUsage extends Usage {
  name: string;
}

/**
 * What metrics-server holds: one snapshot of usage per resolution of simulated time
 * (and one at start), not recomputed in between. Its tick and timestamp advance on
 * time; its content is computed at the first read after the tick (a kube-sim that
 * nobody asks for metrics spends nothing on them: at 150,000 pods a snapshot costs
 * most of a second of the event loop). A snapshot covers
 * the Running pods bound to a node and every node; a node's usage is its pods'
 * usage plus its system share (usage-model.ts). Pods are kept by reference as they
 * were at the snapshot (stored objects are immutable) and their usage is recomputed
 * from the model on demand, so a snapshot costs one array slot per pod.
 */
export class MetricsSnapshot {
  private tickCount = 0;
  private takenAt = 0;
  /** The pods with metrics, in key order (binary-searched by key: no per-pod map entry or key string). */
  private pods: KubeObject[] = [];
  private nodes = new Map<string, { node: KubeObject; usage: Usage }>();
  /** The tick `pods` and `nodes` were computed for (behind `tickCount`: compute at the next read). */
  private computedTick = 0;
  private readonly seed: number;
  private readonly resolutionMs: number;

  constructor(
    private readonly cluster: Cluster,
    options: MetricsSnapshotOptions,
  ) {
    this.seed = options.seed;
    this.resolutionMs = Math.max(1, Math.round((options.resolutionSeconds ?? 15) * 1000));
    this.take();
    const next = (): void => {
      this.take();
      this.cluster.schedule(this.resolutionMs, next);
    };
    this.cluster.schedule(this.resolutionMs, next);
  }

  /** Snapshots taken so far (1 at start). */
  get ticks(): number {
    return this.tickCount;
  }

  /** When the snapshot was taken (RFC 3339, whole seconds). */
  get timestamp(): string {
    return rfc3339(this.takenAt);
  }

  /** The window usage is averaged over, as a Go duration (`15s`). */
  get window(): string {
    return formatGoDuration(this.resolutionMs);
  }

  /** The nodes with metrics, by name, in name order. */
  nodeNames(): string[] {
    this.compute();
    return [...this.nodes.keys()];
  }

  /** A node's usage and its object as of the snapshot, if it has metrics. */
  node(name: string): { node: KubeObject; usage: Usage } | undefined {
    this.compute();
    return this.nodes.get(name);
  }

  /** The pods with metrics (as of the snapshot), in `namespace/name` order. */
  podList(): readonly KubeObject[] {
    this.compute();
    return this.pods;
  }

  /** The pod with metrics under `namespace/name`, as of the snapshot. */
  pod(key: string): KubeObject | undefined {
    this.compute();
    let lo = 0;
    let hi = this.pods.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (objectKey(this.pods[mid] as KubeObject) < key) lo = mid + 1;
      else hi = mid;
    }
    const found = this.pods[lo];
    return found !== undefined && objectKey(found) === key ? found : undefined;
  }

  /** The usage of each container of `pod` (app containers, then running sidecars). */
  containers(pod: KubeObject): ContainerUsage[] {
    const out: ContainerUsage[] = [];
    this.eachContainer(pod, (container, usage) => out.push({ name: String(container['name']), ...usage }));
    return out;
  }

  private eachContainer(pod: KubeObject, visit: (container: JsonObject, usage: Usage) => void): void {
    const key = usageKey(this.seed, pod.metadata.uid);
    const containers = (pod.spec?.['containers'] ?? []) as JsonObject[];
    for (let i = 0; i < containers.length; i++) {
      const c = containers[i] as JsonObject;
      visit(c, containerUsage(key, i, c, this.tickCount));
    }
    const init = (pod.spec?.['initContainers'] ?? []) as JsonObject[];
    for (let i = 0; i < init.length; i++) {
      const c = init[i] as JsonObject;
      if (c['restartPolicy'] === 'Always')
        visit(c, containerUsage(key, containers.length + i, c, this.tickCount));
    }
  }

  /** Node usage for the truth: millicores and bytes, by node name. */
  nodeUsage(): Record<string, { cpu: number; memory: number }> {
    this.compute();
    const out: Record<string, { cpu: number; memory: number }> = {};
    for (const [name, { usage }] of this.nodes)
      out[name] = { cpu: usage.nanocores / 1e6, memory: usage.bytes };
    return out;
  }

  private take(): void {
    this.tickCount++;
    this.takenAt = this.cluster.now();
  }

  /** Computes the current tick's usage unless it already was. */
  private compute(): void {
    if (this.computedTick === this.tickCount) return;
    this.computedTick = this.tickCount;
    const pods: KubeObject[] = [];
    const sums = new Map<string, Usage>();
    for (const pod of this.cluster.store.kind('Pod').sorted()) {
      const nodeName = pod.spec?.['nodeName'];
      if (typeof nodeName !== 'string' || nodeName === '' || pod.status?.['phase'] !== 'Running') continue;
      pods.push(pod);
      let sum = sums.get(nodeName);
      if (sum === undefined) {
        sum = { nanocores: 0, bytes: 0 };
        sums.set(nodeName, sum);
      }
      const into = sum;
      this.eachContainer(pod, (_, usage) => {
        into.nanocores += usage.nanocores;
        into.bytes += usage.bytes;
      });
    }
    const nodes = new Map<string, { node: KubeObject; usage: Usage }>();
    for (const node of this.cluster.store.kind('Node').sorted()) {
      const system = systemUsage(this.seed, node.metadata.uid, this.tickCount);
      const fromPods = sums.get(node.metadata.name) ?? { nanocores: 0, bytes: 0 };
      nodes.set(node.metadata.name, {
        node,
        usage: { nanocores: system.nanocores + fromPods.nanocores, bytes: system.bytes + fromPods.bytes },
      });
    }
    this.pods = pods;
    this.nodes = nodes;
  }
}
