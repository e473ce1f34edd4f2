import type { KubeObject } from '../api/kube-object.js';
import type { StoredChange } from '../store/change-log.js';
import { rfc3339 } from './clock.js';
import type { Cluster } from './cluster.js';
import { kubeletHealthyConditions, readyStatus } from './node-conditions.js';

/** The namespace of node heartbeat leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** Options of {@link NodeLeases}. */
export interface NodeLeasesOptions {
  /** Seconds between two renewals of one node's lease (the kubelet's 10 s); 0 = no leases renewed. Default 10. */
  renewSeconds?: number;
  /** The leases' `leaseDurationSeconds` (the kubelet's 40). Default 40. */
  leaseDurationSeconds?: number;
}

/** metav1.MicroTime as the API server writes it: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The coordination.k8s.io/v1 Lease a node's kubelet holds in `kube-node-lease`. */
export function nodeLease(node: KubeObject, renewMs: number, durationSeconds: number): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node.metadata.name,
      namespace: NODE_LEASE_NAMESPACE,
      uid: '',
      resourceVersion: '',
      creationTimestamp: rfc3339(renewMs),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid }],
    },
    spec: {
      holderIdentity: node.metadata.name,
      leaseDurationSeconds: durationSeconds,
      renewTime: microTime(renewMs),
    },
  };
}

/**
 * The simulated kubelets' node leases: one Lease per node in `kube-node-lease`,
 * created with the node (and deleted with it, as the garbage collector follows the
 * owner reference), renewed every `renewSeconds` with the renewals spread over the
 * interval. A kubelet made unreachable ({@link setReachable}) stops renewing; the node
 * lifecycle controller notices the stale lease. Renewals stop while the simulation is paused.
 */
export class NodeLeases {
  readonly renewSeconds: number;
  readonly leaseDurationSeconds: number;
  private readonly unreachable = new Set<string>();
  private cursor = 0;
  private generation = 0;

  constructor(
    private readonly cluster: Cluster,
    options: NodeLeasesOptions = {},
  ) {
    this.renewSeconds = options.renewSeconds ?? 10;
    this.leaseDurationSeconds = options.leaseDurationSeconds ?? 40;
    cluster.store.subscribe((event) => this.onChange(event));
    cluster.onPauseChange((paused) => {
      if (!paused) this.plan();
    });
  }

  /** The leases of `nodes` as of now (loaded with the world, before the log starts). */
  initialLeases(nodes: Iterable<KubeObject>): KubeObject[] {
    const now = this.cluster.now();
    return [...nodes].map((node) => nodeLease(node, now, this.leaseDurationSeconds));
  }

  /** Starts renewing (call once the leases are loaded). */
  start(): void {
    this.plan();
  }

  /** Whether `node`'s kubelet reaches the API server. */
  isReachable(node: string): boolean {
    return !this.unreachable.has(node);
  }

  /**
   * Cuts a node's kubelet off (no more lease renewals, no status) or reconnects it:
   * it then renews its lease and, if its node was marked Unknown, posts healthy
   * conditions at once.
   */
  setReachable(node: string, reachable: boolean): void {
    if (reachable) {
      if (!this.unreachable.delete(node)) return;
      this.cluster.schedule(0, () => {
        this.renew(node);
        const current = this.cluster.store.get('Node', node);
        if (current !== undefined && readyStatus(current) === 'Unknown') {
          this.cluster.write('Node', kubeletHealthyConditions(current, this.cluster.now()));
        }
      });
    } else {
      this.unreachable.add(node);
    }
  }

  /** The last renewal of `node`'s lease, ms, or undefined without a lease. */
  renewedAt(node: string): number | undefined {
    const lease = this.cluster.store.get('Lease', `${NODE_LEASE_NAMESPACE}/${node}`);
    const renewTime = lease?.spec?.['renewTime'];
    return typeof renewTime === 'string' ? Date.parse(renewTime) : undefined;
  }

  private onChange(event: StoredChange): void {
    if (event.kind !== 'Node') return;
    const name = event.key;
    if (event.type === 'ADDED') {
      const node = event.object;
      this.cluster.schedule(0, () => {
        const current = this.cluster.store.get('Node', name);
        const key = `${NODE_LEASE_NAMESPACE}/${name}`;
        if (current?.metadata.uid !== node.metadata.uid) return;
        if (this.cluster.store.get('Lease', key)) this.cluster.store.delete('Lease', key);
        this.cluster.createObject('Lease', nodeLease(current, this.cluster.now(), this.leaseDurationSeconds));
      });
    } else if (event.type === 'DELETED') {
      this.unreachable.delete(name);
      this.cluster.schedule(0, () => {
        const key = `${NODE_LEASE_NAMESPACE}/${name}`;
        if (!this.cluster.store.get('Node', name) && this.cluster.store.get('Lease', key)) {
          this.cluster.store.delete('Lease', key);
        }
      });
    }
  }

  private plan(): void {
    const generation = ++this.generation;
    if (this.renewSeconds <= 0) return;
    const step = (): void => {
      if (generation !== this.generation || this.cluster.paused) return;
      this.renewNext();
      this.cluster.schedule(this.stepMs(), step);
    };
    this.cluster.schedule(this.stepMs(), step);
  }

  private stepMs(): number {
    const nodes = Math.max(1, this.cluster.store.kind('Node').size);
    return (this.renewSeconds * 1000) / nodes;
  }

  private renewNext(): void {
    const nodes = this.cluster.store.kind('Node');
    if (nodes.size === 0) return;
    if (this.cursor >= nodes.size) this.cursor = 0;
    const name = nodes.keyAt(this.cursor++);
    if (name !== undefined) this.renew(name);
  }

  private renew(node: string): void {
    if (this.unreachable.has(node)) return;
    const lease = this.cluster.store.get('Lease', `${NODE_LEASE_NAMESPACE}/${node}`);
    if (lease === undefined) return;
    this.cluster.write('Lease', {
      ...lease,
      spec: { ...lease.spec, renewTime: microTime(this.cluster.now()) },
    });
  }
}
