import type { JsonObject, JsonValue, KubeObject } from '../api/kube-object.js';
import { rfc3339 } from './clock.js';
import type { Cluster } from './cluster.js';

/**
 * Kubelet heartbeats: every `seconds`, each node's conditions get a fresh
 * `lastHeartbeatTime` (one MODIFIED per node that changes nothing meaningful, as
 * real kubelets produce), spread evenly over the interval so they arrive as a
 * steady trickle rather than a burst. One task walks the nodes in name order.
 */
export class Heartbeats {
  private seconds = 0;
  private generation = 0;
  private cursor = 0;
  private count = 0;

  constructor(private readonly cluster: Cluster) {
    cluster.onPauseChange((paused) => {
      if (!paused) this.plan();
    });
  }

  /** Seconds between two heartbeats of one node (0 = off). */
  get intervalSeconds(): number {
    return this.seconds;
  }

  /** Heartbeats written so far. */
  get beats(): number {
    return this.count;
  }

  /** Changes the interval (0 stops heartbeats). */
  setInterval(seconds: number): void {
    this.seconds = Math.max(0, seconds);
    this.plan();
  }

  private plan(): void {
    const generation = ++this.generation;
    if (this.seconds <= 0) return;
    const step = (): void => {
      if (generation !== this.generation || this.cluster.paused) return;
      this.beatNext();
      this.cluster.schedule(this.stepMs(), step);
    };
    this.cluster.schedule(this.stepMs(), step);
  }

  private stepMs(): number {
    const nodes = Math.max(1, this.cluster.store.kind('Node').size);
    return (this.seconds * 1000) / nodes;
  }

  private beatNext(): void {
    const nodes = this.cluster.store.kind('Node');
    if (nodes.size === 0) return;
    if (this.cursor >= nodes.size) this.cursor = 0;
    const key = nodes.keyAt(this.cursor++);
    const node = key === undefined ? undefined : nodes.get(key);
    if (node === undefined) return;
    this.cluster.write('Node', heartbeat(node, rfc3339(this.cluster.now())));
    this.count++;
  }
}

/** The node with every condition's `lastHeartbeatTime` set to `at` (nothing else changes). */
export function heartbeat(node: KubeObject, at: string): KubeObject {
  const conditions = node.status?.['conditions'];
  if (!Array.isArray(conditions)) return node;
  return {
    ...node,
    status: {
      ...node.status,
      conditions: conditions.map((c: JsonValue) =>
        typeof c === 'object' && c !== null && !Array.isArray(c)
          ? ({ ...c, lastHeartbeatTime: at } as JsonObject)
          : c,
      ),
    },
  };
}
