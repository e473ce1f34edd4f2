import type { ClusterName } from '@knm/contracts';
import type { ClusterPosition, ClusterSnapshot, NodeStoreReader } from '@knm/node-store';

/**
 * The last decoded snapshot of each cluster, so that REST reads of a quiet cluster
 * do not fetch and decode every node again (5,000 nodes are megabytes of JSON).
 * Freshness is never traded: a caller passes the cluster's current seq and epoch
 * (read just before) and gets a snapshot at least that new. Reads are batched per
 * cluster: requests that arrive while a read is in flight share the NEXT read,
 * which starts after they arrived, so under churn at most two reads per cluster are
 * outstanding whatever the request rate.
 *
 * A caller that accepts staleness (`Cache-Control: max-stale`: a client that resumes
 * from the answer's seq) gets the latest snapshot when its read was sent at most
 * that long ago, even if the cluster moved on: under churn, every query of a
 * thousand opening dashboards then shares one read and one decode a second instead
 * of one per seq.
 *
 * A snapshot is reused only within the life it was read in (the caller's
 * `registeredAt`) and epoch: after Redis lost its data, epoch and seq start over, and
 * an old snapshot with a higher seq must not pass for a newer one.
 *
 * Known limitation: one decoded snapshot per cluster stays in memory (no eviction).
 */
export class SnapshotCache {
  private readonly latest = new Map<
    ClusterName,
    { snapshot: ClusterSnapshot; life: string; /** When its read was sent (ms). */ readAt: number }
  >();
  private readonly inflight = new Map<ClusterName, Promise<ClusterSnapshot>>();
  private readonly queued = new Map<ClusterName, Promise<ClusterSnapshot>>();

  constructor(
    private readonly reader: NodeStoreReader,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A snapshot of `cluster` with seq >= `current.seq` in `current.epoch` (or newer) of
   * its life; with `maxStaleMs`, possibly older: read at most that long ago, in the
   * same life and epoch.
   */
  async get(cluster: ClusterName, current: ClusterPosition, maxStaleMs = 0): Promise<ClusterSnapshot> {
    const cached = this.latest.get(cluster);
    if (
      cached &&
      cached.life === current.registeredAt &&
      cached.snapshot.epoch === current.epoch &&
      (cached.snapshot.seq >= current.seq || (maxStaleMs > 0 && this.now() - cached.readAt <= maxStaleMs))
    )
      return cached.snapshot;
    return this.read(cluster, current.registeredAt);
  }

  /** The cached snapshot of `cluster` if it is exactly at `at` (no read). */
  peek(cluster: ClusterName, at: ClusterPosition): ClusterSnapshot | undefined {
    const cached = this.latest.get(cluster);
    if (!cached || cached.life !== at.registeredAt) return undefined;
    return cached.snapshot.epoch === at.epoch && cached.snapshot.seq === at.seq ? cached.snapshot : undefined;
  }

  private read(cluster: ClusterName, life: string): Promise<ClusterSnapshot> {
    const queued = this.queued.get(cluster);
    if (queued) return queued;
    const previous = this.inflight.get(cluster) ?? Promise.resolve(undefined);
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        this.queued.delete(cluster);
        const readAt = this.now();
        const reading = this.reader.getSnapshot(cluster);
        this.inflight.set(cluster, reading);
        try {
          const snapshot = await reading;
          const cached = this.latest.get(cluster);
          if (
            !cached ||
            cached.life !== life ||
            cached.snapshot.epoch !== snapshot.epoch ||
            snapshot.seq >= cached.snapshot.seq
          ) {
            this.latest.set(cluster, { snapshot, life, readAt });
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
