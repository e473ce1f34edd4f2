import type { ClusterName } from '@knm/contracts';
import type { ClusterSnapshot, NodeStoreReader } from '@knm/node-store';

/**
 * The last decoded snapshot of each cluster, so that REST reads of a quiet cluster
 * do not fetch and decode every node again (5,000 nodes are megabytes of JSON).
 * Freshness is never traded: a caller passes the cluster's current seq and epoch
 * (read just before) and gets a snapshot at least that new. Reads are batched per
 * cluster: requests that arrive while a read is in flight share the NEXT read,
 * which starts after they arrived, so under churn at most two reads per cluster are
 * outstanding whatever the request rate.
 *
 * Known limitation: one decoded snapshot per cluster stays in memory (no eviction).
 */
export class SnapshotCache {
  private readonly latest = new Map<ClusterName, ClusterSnapshot>();
  private readonly inflight = new Map<ClusterName, Promise<ClusterSnapshot>>();
  private readonly queued = new Map<ClusterName, Promise<ClusterSnapshot>>();

  constructor(private readonly reader: NodeStoreReader) {}

  /** A snapshot of `cluster` with seq >= `current.seq` in `current.epoch` (or newer). */
  async get(cluster: ClusterName, current: { seq: number; epoch: number }): Promise<ClusterSnapshot> {
    const cached = this.latest.get(cluster);
    if (cached && cached.epoch === current.epoch && cached.seq >= current.seq) return cached;
    return this.read(cluster);
  }

  private read(cluster: ClusterName): Promise<ClusterSnapshot> {
    const queued = this.queued.get(cluster);
    if (queued) return queued;
    const previous = this.inflight.get(cluster) ?? Promise.resolve(undefined);
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        this.queued.delete(cluster);
        const reading = this.reader.getSnapshot(cluster);
        this.inflight.set(cluster, reading);
        try {
          const snapshot = await reading;
          const cached = this.latest.get(cluster);
          if (!cached || cached.epoch !== snapshot.epoch || snapshot.seq >= cached.seq) {
            this.latest.set(cluster, snapshot);
          }
          return snapshot;
        } finally {
          if (this.inflight.get(cluster) === reading) this.inflight.delete(cluster);
        }
      });
    this.queued.set(cluster, next);
    return next;
  }
}
