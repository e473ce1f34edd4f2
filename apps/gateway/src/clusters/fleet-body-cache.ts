import type { FleetCluster } from '@knm/contracts';

/**
 * Serialized fleet-list bodies, keyed by the query and the (cluster, epoch, seq,
 * status) of every cluster they were computed from: while no covered cluster moves, the same
 * page is served without merging or serializing again (a dashboard's "All clusters"
 * view polls the same page). Any change in any cluster makes the key another one;
 * old entries age out, least recently used first, within `maxBytes`.
 */
export class FleetBodyCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The key of `query` over clusters read in these states (what each answers in `clusters`, in order). */
  static keyOf(query: string, clusters: readonly FleetCluster[]): string {
    const states = clusters.map(
      (c) => `${c.name}@${c.epoch}.${c.seq}:${c.status}${c.error === undefined ? '' : '!'}`,
    );
    return `${query}\n${states.join(',')}`;
  }

  get(key: string): Buffer | undefined {
    const body = this.entries.get(key);
    if (body) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, body);
    }
    return body;
  }

  set(key: string, body: Buffer): void {
    if (body.length > this.maxBytes) return;
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.bytes -= previous.length;
    }
    this.entries.set(key, body);
    this.bytes += body.length;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.length;
    }
  }
}
