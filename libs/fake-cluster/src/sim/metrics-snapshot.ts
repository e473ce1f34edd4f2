import type { JsonObject, KubeObject } from '../api/kube-object.js';
import { formatGoDuration } from '../api/metrics-format.js';
import { objectKey } from '../store/kind-store.js';
import { rfc3339 } from './clock.js';
import type { Cluster } from './cluster.js';
import { containerUsage, systemUsage, type Usage } from './usage-model.js';

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
 * What metrics-server holds: one snapshot of usage, taken every resolution of
 * simulated time (and once at start), not recomputed in between. A snapshot covers
 * the Running pods bound to a node and every node; a node's usage is its pods'
 * usage plus its system share (usage-model.ts). Pods are kept by reference as they
 * were at the snapshot (stored objects are immutable) and their usage is recomputed
 * from the model on demand, so a snapshot costs one map entry per pod.
 */
export class MetricsSnapshot {
  private tickCount = 0;
  private takenAt = 0;
  private pods = new Map<string, KubeObject>();
  private nodes = new Map<string, { node: KubeObject; usage: Usage }>();
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
    return [...this.nodes.keys()];
  }

  /** A node's usage and its object as of the snapshot, if it has metrics. */
  node(name: string): { node: KubeObject; usage: Usage } | undefined {
    return this.nodes.get(name);
  }

  /** The pods with metrics (as of the snapshot), in `namespace/name` order. */
  podList(): IterableIterator<KubeObject> {
    return this.pods.values();
  }

  /** The pod with metrics under `namespace/name`, as of the snapshot. */
  pod(key: string): KubeObject | undefined {
    return this.pods.get(key);
  }

  /** The usage of each container of `pod` (app containers, then running sidecars). */
  containers(pod: KubeObject): ContainerUsage[] {
    const out: ContainerUsage[] = [];
    const uid = pod.metadata.uid;
    const containers = (pod.spec?.['containers'] ?? []) as JsonObject[];
    containers.forEach((c, i) =>
      out.push({ name: String(c['name']), ...containerUsage(this.seed, uid, i, c, this.tickCount) }),
    );
    const init = (pod.spec?.['initContainers'] ?? []) as JsonObject[];
    init.forEach((c, i) => {
      if (c['restartPolicy'] === 'Always')
        out.push({
          name: String(c['name']),
          ...containerUsage(this.seed, uid, containers.length + i, c, this.tickCount),
        });
    });
    return out;
  }

  /** Node usage for the truth: millicores and bytes, by node name. */
  nodeUsage(): Record<string, { cpu: number; memory: number }> {
    const out: Record<string, { cpu: number; memory: number }> = {};
    for (const [name, { usage }] of this.nodes)
      out[name] = { cpu: usage.nanocores / 1e6, memory: usage.bytes };
    return out;
  }

  private take(): void {
    this.tickCount++;
    this.takenAt = this.cluster.now();
    const pods = new Map<string, KubeObject>();
    const sums = new Map<string, Usage>();
    for (const pod of this.cluster.store.kind('Pod').sorted()) {
      const nodeName = pod.spec?.['nodeName'];
      if (typeof nodeName !== 'string' || nodeName === '' || pod.status?.['phase'] !== 'Running') continue;
      pods.set(objectKey(pod), pod);
      const sum = sums.get(nodeName) ?? { nanocores: 0, bytes: 0 };
      for (const c of this.containers(pod)) {
        sum.nanocores += c.nanocores;
        sum.bytes += c.bytes;
      }
      sums.set(nodeName, sum);
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
