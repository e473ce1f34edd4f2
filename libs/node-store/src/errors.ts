/**
 * Thrown by every write of a {@link NodeStoreWriter} whose epoch is no longer the
 * cluster's current fencing epoch (`knm:{c}:epoch`): another watcher acquired the
 * lease since this writer was created, or Redis lost the epoch. The write changed
 * nothing. The owner must stop writing and go back to standby.
 */
export class FencedError extends Error {
  override readonly name = 'FencedError';

  constructor(
    readonly cluster: string,
    /** The epoch this writer was created with. */
    readonly epoch: number,
    /** The cluster's epoch found in Redis (`undefined` when the key is missing). */
    readonly currentEpoch: number | undefined,
  ) {
    super(
      `writer of cluster "${cluster}" with epoch ${epoch} is fenced: the current epoch is ` +
        `${currentEpoch ?? 'missing'} (another watcher took over; stop writing and re-acquire the lease)`,
    );
  }
}

/**
 * A rebuild's staged hashes were not complete when the swap ran (they expired, or
 * something deleted them). Nothing was swapped; the staging keys were removed.
 * Retrying the rebuild is safe.
 */
export class StagingLostError extends Error {
  override readonly name = 'StagingLostError';

  constructor(
    readonly cluster: string,
    readonly detail: string,
  ) {
    super(`rebuild of cluster "${cluster}" aborted: staged data incomplete (${detail}); retry the rebuild`);
  }
}

/**
 * `applyPodDeltas` was applied (its envelope has `seq`), but the counts of `nodes`
 * would have gone below 0 and were stored as 0: the caller's deltas were computed
 * against counts Redis does not hold. Rewrite the cluster's counts from the caller's
 * index (the watcher reconciles) rather than apply further deltas on top.
 */
export class PodCountUnderflowError extends Error {
  override readonly name = 'PodCountUnderflowError';

  constructor(
    readonly cluster: string,
    readonly seq: number,
    readonly nodes: readonly string[],
  ) {
    super(
      `pod counts of cluster "${cluster}" would have gone below 0 for ${nodes.length} node(s) ` +
        `(${nodes.slice(0, 5).join(', ')}${nodes.length > 5 ? ', ...' : ''}); stored as 0 (seq ${seq}): ` +
        'the deltas disagree with the stored counts, rewrite them',
    );
  }
}

/** `LeaderLease.acquire` gave up because the lease was released or the caller's signal aborted. */
export class LeaseAbortedError extends Error {
  override readonly name = 'LeaseAbortedError';

  constructor(
    readonly cluster: string,
    readonly reason: 'released' | 'aborted',
  ) {
    super(`acquiring the lease of cluster "${cluster}" stopped: ${reason}`);
  }
}

/**
 * `applyNodeChanges` derived a batch's history from a node's stored state three times,
 * and each time the state had moved before the script ran (something else writes the
 * cluster's nodes: only the leading writer should). Nothing of the batch was written;
 * the caller repairs as after any failed write.
 */
export class HistoryStaleError extends Error {
  override readonly name = 'HistoryStaleError';

  constructor(
    readonly cluster: string,
    readonly node: string,
  ) {
    super(
      `node "${node}" of cluster "${cluster}" kept changing in Redis between the read and the write of its history`,
    );
  }
}

/** A Lua script answered with something this library does not understand (a bug or a foreign script). */
export class UnexpectedReplyError extends Error {
  override readonly name = 'UnexpectedReplyError';

  constructor(
    readonly script: string,
    readonly reply: unknown,
  ) {
    super(`unexpected reply from script ${script}: ${safeJson(reply)}`);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return String(value);
  }
}
