import type { ClusterName } from '@knm/contracts';
import type { ClusterPosition, ClusterSnapshot, NodeStoreReader } from '@knm/node-store';
import { NextReads } from '../common/next-reads.js';

/**
 * The last decoded snapshot of each cluster, so that REST reads of a quiet cluster
 * do not fetch and decode every node again (5,000 nodes are megabytes of JSON).
 * Freshness is never traded: a caller passes the cluster's current seq and epoch
 * (read just before) and gets a snapshot at least that new. Reads are shared per
 * cluster ({@link NextReads}, one in flight): requests that arrive while a read is in
 * flight share the NEXT read, which starts after they arrived, so under churn at most
 * one read per cluster is in flight and one waiting, whatever the request rate.
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
  /** One whole-cluster read per cluster at a time (each is megabytes to decode); callers share the next. */
  private readonly reads = new NextReads<ClusterName, { snapshot: ClusterSnapshot; readAt: number }>(
    async (cluster) => {
      const readAt = this.now();
      return { snapshot: await this.reader.getSnapshot(cluster), readAt };
    },
    1,
  );

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

  private async read(cluster: ClusterName, life: string): Promise<ClusterSnapshot> {
    const { snapshot, readAt } = await this.reads.get(cluster);
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
  }
}
