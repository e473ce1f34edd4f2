import { connect, type ClusterWatch, type KnmClient } from '@knm/client';
import type { ClusterStatus, NodeSnapshot } from '@knm/contracts';
import type { ComparableState } from './state-diff.js';

/** One SDK client's watch of one cluster, with what the harness checks on it. */
export interface TrackedWatch {
  client: number;
  cluster: string;
  watch: ClusterWatch;
  /**
   * Envelopes applied whose seq was not the one after the previous applied envelope
   * or the last reload: an out-of-order application the SDK must never make.
   */
  unhandledGaps: number;
  /** Cluster statuses this view has shown (from `cluster_status` envelopes and reloads). */
  statusesSeen: Set<ClusterStatus>;
  /** Reasons of the reloads after the initial one. */
  reloadReasons: Map<string, number>;
}

/** Options of {@link ClientPool.open}. */
export interface ClientPoolOptions {
  /** Gateway base URLs; client i starts on URL i mod n and fails over to the others in turn. */
  urls: readonly string[];
  token: string;
  clusters: readonly string[];
  count: number;
  /** Clients connected at once before waiting for them to be live. Default 100. */
  batch?: number;
}

/**
 * N in-process `@knm/client` SDK clients, connected round-robin to the gateways,
 * each watching every cluster. Records, per watch, whether any envelope was applied
 * out of order (it tracks the seq of each `change` and `reload`).
 */
export class ClientPool {
  readonly watches: TrackedWatch[] = [];
  private readonly clients: KnmClient[] = [];

  private constructor() {}

  static async open(options: ClientPoolOptions): Promise<ClientPool> {
    const pool = new ClientPool();
    const batch = options.batch ?? 100;
    for (let start = 0; start < options.count; start += batch) {
      const ready: Promise<void>[] = [];
      for (let i = start; i < Math.min(options.count, start + batch); i++) {
        const urls = options.urls.map((_, k) => options.urls[(i + k) % options.urls.length] as string);
        const client = connect({ url: urls, token: options.token });
        client.on('error', () => undefined); // reconnects are the point of the exercise
        pool.clients.push(client);
        for (const cluster of options.clusters) {
          const tracked = track(i, cluster, client.watchCluster(cluster));
          pool.watches.push(tracked);
          ready.push(tracked.watch.ready());
        }
      }
      await Promise.all(ready);
    }
    return pool;
  }

  get size(): number {
    return this.clients.length;
  }

  /** How many clients are on each gateway (by its welcome id; `none` while disconnected). */
  byGateway(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.clients) {
      const g = c.gateway ?? 'none';
      out[g] = (out[g] ?? 0) + 1;
    }
    return out;
  }

  /** Watches of `cluster`. */
  of(cluster: string): TrackedWatch[] {
    return this.watches.filter((w) => w.cluster === cluster);
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

function track(client: number, cluster: string, watch: ClusterWatch): TrackedWatch {
  const tracked: TrackedWatch = {
    client,
    cluster,
    watch,
    unhandledGaps: 0,
    statusesSeen: new Set(),
    reloadReasons: new Map(),
  };
  let last: number | undefined;
  watch.on('reload', ({ reason, seq }) => {
    last = seq;
    if (reason !== 'initial') tracked.reloadReasons.set(reason, (tracked.reloadReasons.get(reason) ?? 0) + 1);
    const status = watch.view.status?.status;
    if (status) tracked.statusesSeen.add(status);
  });
  watch.on('batch', ({ fromSeq, seq }) => {
    if (last !== undefined && fromSeq > last) tracked.unhandledGaps += 1;
    last = seq;
  });
  watch.on('change', ({ envelope }) => {
    // A batch's envelopes carry their keys' own seqs, at most the batch's.
    if (last !== undefined && envelope.seq <= last) return;
    if (last !== undefined && envelope.seq !== last + 1) tracked.unhandledGaps += 1;
    last = envelope.seq;
    if (envelope.type === 'cluster_status') tracked.statusesSeen.add(envelope.data.status);
  });
  return tracked;
}

/** A watch's view in the verifier's terms. */
export function viewState(watch: ClusterWatch): ComparableState {
  const nodes: Record<string, NodeSnapshot> = {};
  for (const view of watch.nodes()) {
    const { podCount: _count, podCapacity: _capacity, resources: _resources, ...node } = view;
    nodes[node.name] = node;
  }
  return { nodes, podCounts: watch.view.podCounts(), allocation: watch.view.allocations() };
}
