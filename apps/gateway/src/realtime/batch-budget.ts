/**
 * How long a waiter keeps its place without asking again. A waiting socket asks at
 * least at every feed tick (250 ms) and whenever budget frees up for it; a read of its
 * batch from Redis under load can take a few seconds.
 */
export const RESERVATION_LAPSE_MS = 5_000;

/**
 * A replica-wide bound on the folded batches written to sockets and not yet taken by
 * their clients (drained from the socket's buffers and, for a client that acks,
 * acked).
 *
 * Why: after an overload (a churn past what the clients can read, a failover), many
 * sockets are far behind at once and each is owed megabytes. Written all at once,
 * those batches fill the replica's memory and the clients' event loops together: the
 * clients miss pings, reconnect, and are owed the same megabytes again. Bounded, a
 * few sockets are written at a time, each reads its batch quickly and is done; the
 * others wait with nothing queued (so their pings and handshakes stay answered) and
 * are woken as budget frees up: the oldest waiter, and the others whose batches (as
 * last refused) fit in what is free, so a release does not wake every waiter only to
 * refuse most of them again. Admission serves the oldest first.
 *
 * The oldest waiter's batch is reserved: another batch is admitted only if it fits
 * beside it. Without that, a socket far behind (owed a whole cluster, megabytes) was
 * refused at every round while the smaller batches of sockets closer to the head
 * kept the budget full: in the latency bench at 5,000 clients one client stayed at
 * the same seq for minutes while every other moved on, and never timed out, since
 * nothing waited in its buffers. With the reservation, the budget drains until the
 * oldest fits; the others fill what is left beside it. A waiter that stops asking
 * (it was not refused again within {@link RESERVATION_LAPSE_MS}) loses its place, so
 * a socket that no longer wants a batch never holds the budget for the others.
 *
 * Each socket's batch is counted, even when many sockets share one batch (encoded
 * once, its bytes shared by their write buffers): what the budget paces is how many
 * clients are catching up at once. Counting a shared batch once was measured
 * (latency bench, 2026-12-03): at 1,000 clients it changed little (748 waits in
 * three churn rates), and at 5,000 it let every socket of a round take its batch
 * together: 19,080 reconnects of starved clients against 1,987.
 *
 * A batch larger than the whole budget still goes, alone, when nothing else is held.
 */
export class BatchBudget<K extends object> {
  private heldBytes = 0;
  private readonly holds = new Map<K, number>();
  private lapsed = 0;
  /**
   * Keys refused budget: when they were first refused (a Map keeps that order), the
   * bytes they were refused last, and when.
   */
  private readonly waiting = new Map<K, { since: number; bytes: number; asked: number }>();

  constructor(
    readonly maxBytes: number,
    /** Called with waiting keys (oldest first) when budget frees up for them: they should try again. */
    private readonly onFree: (waiting: K[]) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes written and not yet taken. */
  get held(): number {
    return this.heldBytes;
  }

  /** Keys waiting for budget. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Waiters that lost their place because they stopped asking, so far. */
  get lapses(): number {
    return this.lapsed;
  }

  /**
   * Where `key` stands in the queue: how long it has waited, the bytes it was refused
   * last, its place (0 = the oldest); undefined when it does not wait. O(waiters): for
   * a report, not a hot path.
   */
  waiter(key: K): { waitedMs: number; bytes: number; place: number } | undefined {
    const waiter = this.waiting.get(key);
    if (!waiter) return undefined;
    const place = [...this.waiting.keys()].indexOf(key);
    return { waitedMs: this.now() - waiter.since, bytes: waiter.bytes, place };
  }

  /** The oldest waiter still asking, with how long it has waited and the bytes reserved for it. */
  head(): { key: K; waitedMs: number; bytes: number } | undefined {
    const oldest = this.oldest();
    return oldest && { key: oldest.key, waitedMs: this.now() - oldest.since, bytes: oldest.bytes };
  }

  /**
   * Which of `candidates` may each be written a batch of `bytes` now, oldest waiter
   * first; the admitted hold `bytes` each until {@link release}d, the others wait.
   * A batch goes when it fits beside the oldest waiter's (reserved), or when it is
   * the oldest waiter's and fits, or goes alone with nothing held.
   */
  admit(candidates: readonly K[], bytes: number): K[] {
    const since = (key: K): number => this.waiting.get(key)?.since ?? Infinity;
    const order = [...candidates].sort((a, b) => since(a) - since(b));
    const admitted: K[] = [];
    const now = this.now();
    for (const key of order) {
      const oldest = this.oldest(now);
      const reserved = oldest && oldest.key !== key ? oldest.bytes : 0;
      const fits = this.heldBytes + bytes + reserved <= this.maxBytes;
      const alone = this.heldBytes === 0 && reserved === 0;
      if (!fits && !alone) {
        const waited = this.waiting.get(key);
        if (waited) {
          waited.bytes = bytes;
          waited.asked = now;
        } else this.waiting.set(key, { since: now, bytes, asked: now });
        continue;
      }
      this.heldBytes += bytes;
      this.holds.set(key, (this.holds.get(key) ?? 0) + bytes);
      this.waiting.delete(key);
      admitted.push(key);
    }
    return admitted;
  }

  /** `key`'s batches were taken by its client: their bytes go back to the budget. */
  release(key: K): void {
    const bytes = this.holds.get(key);
    if (bytes === undefined) return;
    this.holds.delete(key);
    this.heldBytes -= bytes;
    if (this.waiting.size > 0) this.onFree(this.fitting());
  }

  /**
   * The oldest waiter still asking, or undefined. Waiters not refused within
   * {@link RESERVATION_LAPSE_MS} are dropped on the way (they ask anew, last, if they
   * still want a batch).
   */
  private oldest(now = this.now()): { key: K; since: number; bytes: number } | undefined {
    for (const [key, waiter] of this.waiting) {
      if (now - waiter.asked <= RESERVATION_LAPSE_MS)
        return { key, since: waiter.since, bytes: waiter.bytes };
      this.waiting.delete(key);
      this.lapsed += 1;
    }
    return undefined;
  }

  /**
   * The waiters to wake, oldest first: the oldest (its batch may go alone once nothing
   * is held), then each whose batch fits in the budget left after those before it.
   */
  private fitting(): K[] {
    this.oldest(); // drops the waiters that stopped asking
    let room = this.maxBytes - this.heldBytes;
    const woken: K[] = [];
    for (const [key, { bytes }] of this.waiting) {
      if (woken.length > 0 && bytes > room) continue;
      woken.push(key);
      room -= bytes;
    }
    return woken;
  }

  /** `key` is gone (unsubscribed, disconnected) or needs no batch (live): it neither holds nor waits. */
  forget(key: K): void {
    this.waiting.delete(key);
    this.release(key);
  }
}
