/**
 * A replica-wide bound on the folded batches written to sockets and not yet taken by
 * their clients (drained from the socket's buffers and, for a client that acks,
 * acked), each batch counted once however many sockets it was written to.
 *
 * Why: after an overload (a churn past what the clients can read, a failover), many
 * sockets are far behind at once and each is owed megabytes. Written all at once,
 * distinct batches for each of them would fill the replica's memory and its event
 * loop with builds. Bounded, a few distinct batches are in flight at a time; the
 * sockets owed another wait with nothing queued (so their pings and handshakes stay
 * answered) and are woken as budget frees up: the oldest waiter, and the others whose
 * batches (as last refused) fit in what is free, so a release does not wake every
 * waiter only to refuse most of them again. Admission serves the oldest first.
 *
 * A batch shared by many sockets ({@link SharedBatches}) is encoded once and its
 * bytes are shared by their write buffers, so it is counted once: the sockets a burst
 * left at about the same seq all take it at once, and one build serves them. (Counted
 * once per socket, a replica let only a handful of sockets at a time take the same
 * batch: in the latency bench at 1,000 clients and churn 1,000/s the others waited
 * over 160,000 times, each round found the log moved on and built anew, and views
 * were equal to the truth 30 s after the churn, not 16 s.) Each socket's own flow
 * control still holds it to one batch at a time, so what a client has to read is
 * bounded by the client, not by the crowd.
 *
 * A batch larger than the whole budget still goes, alone, when nothing else is held.
 */
export class BatchBudget<K extends object, B extends object = object> {
  private heldBytes = 0;
  /** Per key, the batches it was written and has not taken. */
  private readonly holds = new Map<K, B[]>();
  /** Per batch held: its bytes (counted once) and how many keys hold it. */
  private readonly batches = new Map<B, { bytes: number; holders: number }>();
  /** Keys refused budget: when they were first refused (a Map keeps that order) and the bytes they were refused last. */
  private readonly waiting = new Map<K, { since: number; bytes: number }>();

  constructor(
    readonly maxBytes: number,
    /** Called with waiting keys (oldest first) when budget frees up for them: they should try again. */
    private readonly onFree: (waiting: K[]) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes of the batches written and not yet taken, each counted once. */
  get held(): number {
    return this.heldBytes;
  }

  /** Keys waiting for budget. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /**
   * Which of `candidates` may each be written `batch` (of `bytes`) now, oldest waiter
   * first: all of them when the batch is held already or fits (each then holds it
   * until {@link release}d), none when it does not (they wait).
   */
  admit(candidates: readonly K[], batch: B, bytes: number): K[] {
    const since = (key: K): number => this.waiting.get(key)?.since ?? Infinity;
    const order = [...candidates].sort((a, b) => since(a) - since(b));
    let held = this.batches.get(batch);
    if (!held && this.heldBytes > 0 && this.heldBytes + bytes > this.maxBytes) {
      for (const key of order) {
        const waited = this.waiting.get(key);
        if (waited) waited.bytes = bytes;
        else this.waiting.set(key, { since: this.now(), bytes });
      }
      return [];
    }
    if (!held) {
      held = { bytes, holders: 0 };
      this.batches.set(batch, held);
      this.heldBytes += bytes;
    }
    for (const key of order) {
      held.holders += 1;
      const mine = this.holds.get(key);
      if (mine) mine.push(batch);
      else this.holds.set(key, [batch]);
      this.waiting.delete(key);
    }
    return order;
  }

  /** `key`'s batches were taken by its client: a batch no other key holds gives its bytes back. */
  release(key: K): void {
    const mine = this.holds.get(key);
    if (!mine) return;
    this.holds.delete(key);
    let freed = false;
    for (const batch of mine) {
      const held = this.batches.get(batch);
      if (!held || --held.holders > 0) continue;
      this.batches.delete(batch);
      this.heldBytes -= held.bytes;
      freed = true;
    }
    if (freed && this.waiting.size > 0) this.onFree(this.fitting());
  }

  /**
   * The waiters to wake, oldest first: the oldest (its batch may go alone once nothing
   * is held), then each whose batch fits in the budget left after those before it.
   */
  private fitting(): K[] {
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
