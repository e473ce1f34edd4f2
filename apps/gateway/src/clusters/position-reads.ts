import type { ClusterName } from '@knm/contracts';
import type { ClusterPosition, NodeStoreReader } from '@knm/node-store';
import { NextReads } from '../common/next-reads.js';

/**
 * The clusters' positions (seq, epoch, life) as {@link NextReads}: every cached
 * answer starts with one, so under load they were most of the gateway's Redis
 * commands and of its CPU in ioredis. A request joins the next read of its cluster,
 * sent after it arrived: an answer is never older than the cluster was when its
 * request arrived.
 */
export class PositionReads {
  private readonly reads: NextReads<ClusterName, ClusterPosition | undefined>;

  constructor(reader: Pick<NodeStoreReader, 'getPosition'>) {
    this.reads = new NextReads((cluster) => reader.getPosition(cluster));
  }

  /** The cluster's position as of a read sent after this call; `undefined` when it is not registered. */
  get(cluster: ClusterName): Promise<ClusterPosition | undefined> {
    return this.reads.get(cluster);
  }
}
