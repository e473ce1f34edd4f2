import type { StoredKind } from '../api/kube-object.js';
import type { ClusterStore } from '../store/cluster-store.js';
import type { StoredChange } from '../store/change-log.js';
import type { WatchStream } from './watch-stream.js';

/**
 * Every open watch of one cluster, by kind, fed from one store subscription.
 * Also the switchboard for watch faults: drop all, stall all.
 */
export class WatchHub {
  private readonly byKind = new Map<StoredKind, Set<WatchStream>>();
  private readonly unsubscribe: () => void;
  private stalledAll = false;

  constructor(store: ClusterStore) {
    this.unsubscribe = store.subscribe((event) => this.fanOut(event));
  }

  /** Number of open watches. */
  get size(): number {
    let n = 0;
    for (const set of this.byKind.values()) n += set.size;
    return n;
  }

  /** Whether watches are stalled (new ones start stalled too). */
  get stalled(): boolean {
    return this.stalledAll;
  }

  /** Starts delivering live changes to `stream` (call after replaying what it missed). */
  add(stream: WatchStream): void {
    stream.stalled = this.stalledAll;
    let set = this.byKind.get(stream.kind);
    if (set === undefined) this.byKind.set(stream.kind, (set = new Set()));
    set.add(stream);
  }

  remove(stream: WatchStream): void {
    this.byKind.get(stream.kind)?.delete(stream);
  }

  /** Ends every open watch: cleanly (`end`) or by resetting the connection (`destroy`). */
  dropAll(how: 'end' | 'destroy' = 'end'): number {
    const all = [...this.byKind.values()].flatMap((s) => [...s]);
    for (const stream of all) {
      if (how === 'end') stream.end();
      else stream.destroy();
    }
    return all.length;
  }

  /**
   * Stalls (or un-stalls) every watch. Un-stalling ends the stalled streams cleanly:
   * they missed events, so their clients must re-watch from their last version.
   */
  setStalled(stalled: boolean): void {
    if (this.stalledAll === stalled) return;
    this.stalledAll = stalled;
    for (const set of this.byKind.values()) for (const stream of set) stream.stalled = stalled;
    if (!stalled) this.dropAll('end');
  }

  close(): void {
    this.unsubscribe();
    this.dropAll('destroy');
  }

  private fanOut(event: StoredChange): void {
    const set = this.byKind.get(event.kind);
    if (set === undefined) return;
    for (const stream of set) stream.deliver(event);
    // The frames are shared by the watchers of this fan-out only: the event stays in
    // the change log, and keeping its bytes there would double the log's memory.
    event.encoded = undefined;
  }
}
