import type { BatchMessage } from '@knm/contracts';
import type { CompressedBatch } from './batch-compression.js';
import type { BatchParts } from './batch-parts.js';

/** A folded batch built and encoded once, for every socket it covers closely enough. */
export interface SharedBatch {
  batch: BatchMessage;
  /** Its encoded (JSON) size: what flow control and the batch budget count. */
  bytes: number;
  /**
   * Its envelopes' JSON, from building it until it is first sent, so that a compressed
   * form is built from it without encoding the envelopes again; dropped then (up to
   * 32 batches of a cluster are kept, each of up to the whole state).
   */
  json?: string;
  /** The keys it carries (nodes, pod counts, allocations); Infinity for the whole state. */
  weight: number;
  /** The batch compressed, once a socket that asked for it is sent it (large batches only). */
  compressed?: CompressedBatch;
  /** Its parts, once a socket whose link would take it whole too long is owed it ({@link BatchParts}). */
  parts?: BatchParts;
}

/**
 * A reader may be sent a batch carrying up to twice the keys it lacks, plus this many:
 * near-live readers a few changes apart share one batch too.
 */
const SHARE_SLACK = 64;
/** Batches kept per seq at most (the oldest goes first): readers spread over many seqs still share. */
const MAX_ENTRIES = 32;

/**
 * Whether a reader at `afterSeq`, lacking about `need` keys (Infinity: it needs the
 * whole state), may be sent `shared`: the batch starts at or before it and moves it
 * on, and carries at most about twice what it lacks (only the whole state when it
 * needs that).
 */
export function covers(shared: SharedBatch, afterSeq: number, need: number): boolean {
  const { fromSeq, seq } = shared.batch;
  if (fromSeq > afterSeq || afterSeq >= seq) return false;
  if (need === Infinity) return fromSeq === 0;
  return shared.weight <= 2 * need + SHARE_SLACK;
}

/**
 * The batches one cluster's log has built at its latest seq. Readers at different
 * seqs may share one: a batch folded from `fromSeq` is exact for any reader in
 * `[fromSeq, seq]` (the contract of `batch`), and a reader further ahead only gets
 * the latest state of some keys it already has. So the sockets a burst or an overload
 * left behind, each at its own seq, cost a few folds and encodings per round instead
 * of one each; and while the cluster is quiet (a recovery), every later round reuses
 * them. Forgotten as soon as the log moves on.
 */
export class SharedBatches {
  private seq = -1;
  private entries: SharedBatch[] = [];

  /**
   * The lightest batch built at `latestSeq` that a reader at `afterSeq`, lacking about
   * `need` keys (Infinity: it needs the whole state), may be sent.
   */
  find(latestSeq: number, afterSeq: number, need: number): SharedBatch | undefined {
    if (latestSeq !== this.seq) return undefined;
    let best: SharedBatch | undefined;
    for (const entry of this.entries) {
      if (covers(entry, afterSeq, need) && (!best || entry.weight < best.weight)) best = entry;
    }
    return best;
  }

  /** Keeps `entry`, built when the log was at `latestSeq` (dropped if it has moved on since). */
  put(latestSeq: number, entry: SharedBatch): void {
    if (latestSeq !== this.seq) {
      if (latestSeq < this.seq) return;
      this.seq = latestSeq;
      this.entries = [];
    }
    if (this.entries.length >= MAX_ENTRIES) this.entries.shift();
    this.entries.push(entry);
  }

  /** Forgets every batch (the log restarted). */
  clear(): void {
    this.seq = -1;
    this.entries = [];
  }
}
