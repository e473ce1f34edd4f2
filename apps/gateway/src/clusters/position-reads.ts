import type { ClusterName } from '@knm/contracts';
import type { ClusterPosition, NodeStoreReader } from '@knm/node-store';

/**
 * The clusters' positions (seq, epoch, life), read in batches: every cached answer
 * starts with one, so under load they were most of the gateway's Redis commands and
 * of its CPU in ioredis. A request never takes a read that was already sent when it
 * arrived (a write may have landed in between): it joins the NEXT read of its
 * cluster, which starts once the one in flight has answered, and which every request
 * arriving meanwhile shares. So an answer is never older than the cluster was when
 * the request arrived, and a cluster has at most two reads outstanding, whatever
 * the request rate. The cost: up to one extra round trip of waiting under load.
 */
export class PositionReads {
  private readonly inflight = new Map<ClusterName, Promise<ClusterPosition | undefined>>();
  private readonly queued = new Map<ClusterName, Promise<ClusterPosition | undefined>>();

  constructor(private readonly reader: Pick<NodeStoreReader, 'getPosition'>) {}

  /** The cluster's position as of a read sent after this call; `undefined` when it is not registered. */
  get(cluster: ClusterName): Promise<ClusterPosition | undefined> {
    const queued = this.queued.get(cluster);
    if (queued) return queued;
    const running = this.inflight.get(cluster);
    if (!running) return this.start(cluster);
    const next = running
      .catch(() => undefined)
      .then(() => {
        this.queued.delete(cluster);
        return this.start(cluster);
      });
    this.queued.set(cluster, next);
    return next;
  }

  private start(cluster: ClusterName): Promise<ClusterPosition | undefined> {
    const reading = this.reader.getPosition(cluster).finally(() => {
      if (this.inflight.get(cluster) === reading) this.inflight.delete(cluster);
    });
    this.inflight.set(cluster, reading);
    return reading;
  }
}
