import type { Envelope } from '@knm/contracts';

/** Options of {@link LivePacer}. */
export interface LivePacerOptions {
  /** Live messages a second per cluster, sustained; 0 = no pacing (every envelope on its own). */
  ratePerSecond: number;
  /** Messages that may go out back to back before the rate applies. */
  burst: number;
}

/**
 * Paces one cluster's live envelopes on this replica (a token bucket). While the
 * cluster changes slowly, each envelope goes out on its own the moment it arrives.
 * When envelopes come faster than `ratePerSecond` (after a burst of `burst`), those
 * arriving meanwhile wait for the next token and go out together as one run, which
 * the feed sends as one live `batch`. So a socket gets at most about `ratePerSecond`
 * live messages a second from a cluster, whatever the cluster's change rate, and an
 * envelope waits at most one token's interval (1 / rate). Per message the gateway
 * pays a write per socket and the client a decode, so at a high change rate fewer,
 * larger messages are what keeps both ahead.
 *
 * A run holds consecutive seqs only: an envelope that does not follow the run (pub/sub
 * lost some in between) first sends the run as it is.
 */
export class LivePacer {
  private tokens: number;
  private refilledAt: number;
  private pending: Envelope[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: LivePacerOptions,
    private readonly send: (run: Envelope[]) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = options.burst;
    this.refilledAt = now();
  }

  /** The next live envelope (in seq order): sent now, or added to the run that waits. */
  push(envelope: Envelope): void {
    if (this.options.ratePerSecond <= 0) {
      this.send([envelope]);
      return;
    }
    const last = this.pending[this.pending.length - 1];
    if (last && envelope.seq !== last.seq + 1) this.flush();
    if (this.pending.length > 0) {
      this.pending.push(envelope);
      return;
    }
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.send([envelope]);
      return;
    }
    this.pending.push(envelope);
    const waitMs = ((1 - this.tokens) * 1000) / this.options.ratePerSecond;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      this.tokens = Math.max(0, this.tokens - 1);
      this.release();
    }, Math.ceil(waitMs));
  }

  /** Sends the run that waits now (before anything that must not overtake it, e.g. a resync). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.release();
  }

  /** Drops the run that waits (nobody is left to send it to). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }

  private release(): void {
    if (this.pending.length === 0) return;
    const run = this.pending;
    this.pending = [];
    this.send(run);
  }

  private refill(): void {
    const now = this.now();
    const earned = ((now - this.refilledAt) * this.options.ratePerSecond) / 1000;
    this.tokens = Math.min(this.options.burst, this.tokens + earned);
    this.refilledAt = now;
  }
}
