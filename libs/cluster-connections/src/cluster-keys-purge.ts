import { Cluster } from 'ioredis';
import type { ClusterName, Keyspace } from '@knm/contracts';
import type { RedisClient } from '@knm/node-store';

/** Keys deleted per UNLINK (and asked per SCAN step). */
const BATCH = 500;

/**
 * Deletes every key of `cluster`: everything under `<ns>:{<cluster>}:` (its state,
 * stream, lease, epoch, node-pods answers and BullMQ queues, which share the hash
 * tag) and its entry in `<ns>:clusters`. Answers how many keys went. The audit stream
 * (`<ns>:audit`) is history of all clusters and stays.
 *
 * SCAN with MATCH on the hash-tagged prefix: on a Redis Cluster those keys are in one
 * slot, so the scan asks each master (only the slot's owner has any). Deleting the
 * epoch key also fences a leader that did not stop: its next write compares its epoch
 * with an absent one and is refused.
 */
export async function purgeClusterKeys(
  redis: RedisClient,
  keyspace: Keyspace,
  cluster: ClusterName,
): Promise<number> {
  const pattern = `${globEscape(keyspace.cluster(cluster).queuePrefix)}:*`;
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', BATCH);
      cursor = next;
      if (keys.length > 0) deleted += await node.unlink(...keys);
    } while (cursor !== '0');
  }
  deleted += await redis.hdel(keyspace.clusters, cluster);
  return deleted;
}

/** `text` as a literal in a Redis glob pattern. */
function globEscape(text: string): string {
  return text.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}
