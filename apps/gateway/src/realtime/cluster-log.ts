import { EnvelopeFold, type ClusterName, type Envelope, type EnvelopeOf } from '@knm/contracts';
import { SharedBatches } from './shared-batches.js';

/** Tombstones (deleted nodes, zero counts) a log keeps before forgetting the oldest. */
const MAX_TOMBSTONES = 10_000;
/** Envelopes between two tombstone prunes. */
const PRUNE_EVERY = 1_000;

/**
 * This replica's compacted log of one cluster: every envelope it received from the
 * changes channel, folded to the latest state per key ({@link EnvelopeFold}). It is
 * what a socket that fell behind, or resumes, is answered from: one folded batch
 * instead of the envelopes one by one, without reading Redis, in memory bounded by
 * the cluster's nodes (not by its events).
 *
 * Complete for readers at or after `fold.base`: the seq at which this replica's
 * subscription to the channel took effect, moved up when pub/sub lost envelopes
 * (`restart`) or tombstones were pruned. Readers behind it are served from the
 * events stream or the hashes (see `ClusterFeed`).
 *
 * A `resync` from the watcher (its state was rebuilt whole) cannot be folded: the
 * log restarts after it and remembers it, so every reader behind it is sent that
 * resync instead of a batch.
 */
export class ClusterLog {
  private current: EnvelopeFold;
  private resyncEnvelope: EnvelopeOf<'resync'> | undefined;
  private added = 0;
  /** The batches built from this log at its latest seq, shared by the readers they cover. */
  readonly shared = new SharedBatches();

  constructor(
    readonly cluster: ClusterName,
    base: number,
  ) {
    this.current = new EnvelopeFold(cluster, base);
  }

  get fold(): EnvelopeFold {
    return this.current;
  }

  /** Seq of the last envelope received. */
  get latestSeq(): number {
    return this.current.latestSeq;
  }

  /** The last `resync` received: readers behind it must reload. */
  get lastResync(): EnvelopeOf<'resync'> | undefined {
    return this.resyncEnvelope;
  }

  /**
   * Adds the next envelope. When it is not the next seq (envelopes were lost in
   * between, or Redis restarted with seq moved on), the log restarts just before it,
   * so it stays exact for readers from there on.
   */
  add(envelope: Envelope): void {
    if (envelope.seq <= this.current.latestSeq) return;
    if (envelope.type === 'resync') {
      this.resyncEnvelope = envelope;
      this.restart(envelope.seq);
      return;
    }
    if (envelope.seq !== this.current.latestSeq + 1) this.restart(envelope.seq - 1);
    this.current.add(envelope);
    if (++this.added % PRUNE_EVERY === 0) this.current.pruneTombstones(MAX_TOMBSTONES);
  }

  /** Forgets everything: the log is complete only after `base` from now on. */
  restart(base: number): void {
    this.current = new EnvelopeFold(this.cluster, base);
    this.shared.clear();
  }
}
