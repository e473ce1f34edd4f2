import type { ClusterName } from '@knm/contracts';

interface Entry {
  cluster: ClusterName;
  epoch: number;
  seq: number;
  body: Buffer;
  /** When it was stored (`now()`), for answers that may be a little stale. */
  storedAt: number;
}

/**
 * Serialized JSON bodies of node-list answers, keyed by the snapshot they were
 * computed from (cluster, epoch, seq) and the normalized query. A list of 5,000 nodes
 * is about 10 MB of JSON; serializing it took ~50 ms of the gateway's ~60 ms per
 * request, and every dashboard that opens asks for the same list at the same seq.
 *
 * Freshness is the snapshot cache's: an entry is only found for the exact
 * (epoch, seq) the caller read, so a change in the cluster makes every older entry
 * of that cluster unreachable, and they are dropped at once. The cache holds at
 * most `maxBytes` of bodies (least recently used evicted first); a body larger than
 * that is never cached.
 */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes of cached bodies. */
  get size(): number {
    return this.bytes;
  }

  /** The cached body of `query` on `cluster` at exactly (epoch, seq), if any. */
  get(cluster: ClusterName, epoch: number, seq: number, query: string): Buffer | undefined {
    const key = keyOf(cluster, query);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.epoch !== epoch || entry.seq !== seq) {
      this.dropCluster(cluster, epoch, seq);
      return undefined;
    }
    // Most recently used last.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.body;
  }

  /**
   * The newest cached body of `query` on `cluster` if it was stored at most
   * `maxAgeMs` ago, whatever seq the cluster is at now, with the seq it reflects: for
   * a client that resumes from that seq (`Cache-Control: max-stale`), so that many
   * clients opening at once under churn share one serialization. Only within the
   * cluster's current `epoch`.
   */
  recent(
    cluster: ClusterName,
    epoch: number,
    query: string,
    maxAgeMs: number,
  ): { seq: number; body: Buffer } | undefined {
    const entry = this.entries.get(keyOf(cluster, query));
    // Another epoch: a new leader, maybe after a rebuild whose resync the body predates.
    if (!entry || entry.epoch !== epoch || this.now() - entry.storedAt > maxAgeMs) return undefined;
    return { seq: entry.seq, body: entry.body };
  }

  /** Caches `body` as the answer of `query` on `cluster` at (epoch, seq). */
  set(cluster: ClusterName, epoch: number, seq: number, query: string, body: Buffer): void {
    if (body.length > this.maxBytes) return;
    const key = keyOf(cluster, query);
    const previous = this.entries.get(key);
    // A slower request of an older snapshot never replaces a newer answer.
    if (previous && (previous.epoch > epoch || (previous.epoch === epoch && previous.seq > seq))) return;
    this.dropCluster(cluster, epoch, seq);
    const same = this.entries.get(key);
    if (same) {
      this.entries.delete(key);
      this.bytes -= same.body.length;
    }
    this.entries.set(key, { cluster, epoch, seq, body, storedAt: this.now() });
    this.bytes += body.length;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.body.length;
    }
  }

  /** Drops the entries of `cluster` older than (epoch, seq). */
  private dropCluster(cluster: ClusterName, epoch: number, seq: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.cluster === cluster && (entry.epoch < epoch || (entry.epoch === epoch && entry.seq < seq))) {
        this.entries.delete(key);
        this.bytes -= entry.body.length;
      }
    }
  }
}

function keyOf(cluster: ClusterName, query: string): string {
  return `${cluster}\n${query}`;
}
