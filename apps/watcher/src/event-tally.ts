import type { Counter, Gauge } from 'prom-client';

/** One (cluster, resource) stream of watch events: counts by type not yet added to the counter, and the last arrival. */
interface Stream {
  cluster: string;
  resource: string;
  pending: Map<string, number>;
  /** Unix seconds of the last event; undefined once its series was removed. */
  lastAt: number | undefined;
}

/**
 * Watch events counted in plain numbers and handed to Prometheus when it collects:
 * prom-client hashes the label set of every `inc` and `set`, which at tens of
 * thousands of pod events a second was a tenth of the watcher's CPU. Keyed by the
 * observer's own constant strings, so counting an event is two map lookups.
 */
export class EventTally {
  private readonly streams = new Map<string, Map<string, Stream>>();

  constructor(
    private readonly events: Counter<'cluster' | 'resource' | 'type'>,
    private readonly lastEvent: Gauge<'cluster' | 'resource'>,
  ) {}

  /** Counts one event of `type` on (cluster, resource), arrived now. */
  count(cluster: string, resource: string, type: string): void {
    let byResource = this.streams.get(cluster);
    if (!byResource) this.streams.set(cluster, (byResource = new Map()));
    let stream = byResource.get(resource);
    if (!stream)
      byResource.set(resource, (stream = { cluster, resource, pending: new Map(), lastAt: undefined }));
    stream.pending.set(type, (stream.pending.get(type) ?? 0) + 1);
    stream.lastAt = Date.now() / 1000;
  }

  /** Adds the counts so far to the counter and sets the last-event gauge (what a scrape reads). */
  flush(): void {
    for (const byResource of this.streams.values()) {
      for (const stream of byResource.values()) {
        const { cluster, resource } = stream;
        for (const [type, n] of stream.pending) {
          if (n > 0) this.events.inc({ cluster, resource, type }, n);
        }
        stream.pending.clear();
        if (stream.lastAt !== undefined) this.lastEvent.set({ cluster, resource }, stream.lastAt);
      }
    }
  }

  /** The cluster left the process: its counts so far are kept, its last-event series go. */
  forget(cluster: string): void {
    this.flush();
    this.streams.delete(cluster);
    for (const resource of ['nodes', 'pods']) this.lastEvent.remove({ cluster, resource });
  }
}
