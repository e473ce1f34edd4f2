import type { ClusterName } from '@knm/contracts';
import type { ClusterPosition } from '@knm/node-store';

interface Entry {
  cluster: ClusterName;
  at: ClusterPosition;
  body: Buffer;
  /** When it was stored (`now()`), for answers that may be a little stale. */
  storedAt: number;
}

/** True when `a` is a later state of the same life than `b`. */
function after(a: ClusterPosition, b: ClusterPosition): boolean {
  return a.epoch > b.epoch || (a.epoch === b.epoch && a.seq > b.seq);
}

function same(a: ClusterPosition, b: ClusterPosition): boolean {
  return a.epoch === b.epoch && a.seq === b.seq && a.registeredAt === b.registeredAt;
}

/**
 * Serialized (and compressed) bodies of REST answers, keyed by the cluster state they
 * were computed from (its life, epoch and seq: a {@link ClusterPosition}) and a key
 * naming the answer (route, normalized query, content coding). A list of 5,000 nodes
 * is about 10 MB of JSON; serializing it took ~50 ms of the gateway's ~60 ms per
 * request, and every dashboard that opens asks for the same list at the same seq.
 *
 * Freshness is the caller's: an entry is only found for the exact position the
 * caller read, so a change in the cluster makes every older entry of that cluster
 * unreachable, and they are dropped as soon as a newer position is seen (an entry
 * of another life too: Redis lost its data, or the cluster was added again, and
 * epoch and seq started over). The cache holds at most `maxBytes` of bodies (least
 * recently used evicted first); a body larger than that is never cached.
 */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  /** The newest position seen per cluster: older entries are gone, so only a newer one needs a sweep. */
  private readonly newest = new Map<ClusterName, ClusterPosition>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes of cached bodies. */
  get size(): number {
    return this.bytes;
  }

  /** The cached body of `key` on `cluster` at exactly `at`, if any. */
  get(cluster: ClusterName, at: ClusterPosition, key: string): Buffer | undefined {
    this.advance(cluster, at);
    const id = idOf(cluster, key);
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (!same(entry.at, at)) {
      // Older (else `advance` kept it) or newer than what this caller read: not its answer.
      if (!after(entry.at, at)) this.remove(id, entry);
      return undefined;
    }
    // Most recently used last.
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.body;
  }

  /**
   * The newest cached body of `key` on `cluster` if it was stored at most `maxAgeMs`
   * ago, whatever seq the cluster is at now, with the position it reflects: for a
   * client that resumes from that seq (`Cache-Control: max-stale`), so that many
   * clients opening at once under churn share one serialization. Only within the
   * cluster's current life and epoch (`current`).
   */
  recent(
    cluster: ClusterName,
    current: ClusterPosition,
    key: string,
    maxAgeMs: number,
  ): { at: ClusterPosition; body: Buffer } | undefined {
    const entry = this.entries.get(idOf(cluster, key));
    // Another epoch: a new leader, maybe after a rebuild whose resync the body predates.
    if (
      !entry ||
      entry.at.registeredAt !== current.registeredAt ||
      entry.at.epoch !== current.epoch ||
      this.now() - entry.storedAt > maxAgeMs
    )
      return undefined;
    return { at: entry.at, body: entry.body };
  }

  /** Caches `body` as the answer `key` on `cluster` at `at`. */
  set(cluster: ClusterName, at: ClusterPosition, key: string, body: Buffer): void {
    if (body.length > this.maxBytes) return;
    this.advance(cluster, at);
    const newest = this.newest.get(cluster);
    // A slower request of an older snapshot never replaces a newer answer.
    if (newest && !same(newest, at)) return;
    const id = idOf(cluster, key);
    const previous = this.entries.get(id);
    if (previous) this.remove(id, previous);
    this.entries.set(id, { cluster, at, body, storedAt: this.now() });
    this.bytes += body.length;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(oldest, entry);
    }
  }

  /** Records `at` as the cluster's newest position when it is, dropping every entry of the cluster it supersedes. */
  private advance(cluster: ClusterName, at: ClusterPosition): void {
    const newest = this.newest.get(cluster);
    if (newest && newest.registeredAt === at.registeredAt && !after(at, newest)) return;
    this.newest.set(cluster, at);
    for (const [id, entry] of this.entries) {
      if (entry.cluster === cluster && !same(entry.at, at)) this.remove(id, entry);
    }
  }

  private remove(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.bytes -= entry.body.length;
  }
}

function idOf(cluster: ClusterName, key: string): string {
  return `${cluster}\n${key}`;
}
